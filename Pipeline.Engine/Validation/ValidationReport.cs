using Pipeline.Engine.Csv;

namespace Pipeline.Engine.Validation;

/// <summary>One violation. <see cref="Line"/> is 1-based; 0 means the file as a whole.</summary>
public sealed record ValidationError(string File, long Line, string? Column, string? Value, string Rule, string Message);

/// <summary>What was read from one file and how many errors of each rule it had.</summary>
public sealed record FileReport(string File, TableKind Table, long RowsRead, IReadOnlyDictionary<string, long> ErrorCounts);

/// <summary>
/// The validation outcome of a batch: accepted when no rule was violated anywhere.
/// <see cref="Errors"/> holds the first errors (in file, then line order) up to the report limit.
/// </summary>
public sealed record ValidationReport(
    bool Accepted,
    long RowsRead,
    long ErrorCount,
    IReadOnlyList<FileReport> Files,
    IReadOnlyList<ValidationError> Errors)
{
    /// <summary>The rows read from all files of one table.</summary>
    public long RowsOf(TableKind table) => Files.Where(file => file.Table == table).Sum(file => file.RowsRead);
}
