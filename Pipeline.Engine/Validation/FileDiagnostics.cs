using Pipeline.Engine.Csv;

namespace Pipeline.Engine.Validation;

/// <summary>
/// Collects the errors of one file: every error is counted, only the first few are kept,
/// so a garbage file costs a bounded amount of memory and report.
/// </summary>
public sealed class FileDiagnostics(string file, TableKind table, int maxKeptErrors)
{
    /// <summary>Offending values longer than this are cut in the report.</summary>
    public const int MaxValueLength = 80;

    private readonly SortedDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly List<ValidationError> _kept = [];

    public string File { get; } = file;

    public TableKind Table { get; } = table;

    public long RowsRead { get; set; }

    public long ErrorCount { get; private set; }

    public IReadOnlyList<ValidationError> KeptErrors => _kept;

    /// <param name="first">Kept ahead of the errors already kept (the last of them dropped when the list is full).</param>
    public void Report(string rule, long line, string? column, ReadOnlySpan<char> value, string? message = null, bool first = false)
    {
        ErrorCount++;
        _counts[rule] = _counts.GetValueOrDefault(rule) + 1;
        if (_kept.Count < maxKeptErrors || (first && maxKeptErrors > 0))
        {
            string? shown = value.IsEmpty ? null : Truncate(value);
            var error = new ValidationError(File, line, column, shown, rule, message ?? ValidationRule.Describe(rule));
            if (first)
            {
                _kept.Insert(0, error);
                _kept.RemoveRange(Math.Min(_kept.Count, maxKeptErrors), _kept.Count - Math.Min(_kept.Count, maxKeptErrors));
            }
            else
            {
                _kept.Add(error);
            }
        }
    }

    public FileReport ToReport() => new(File, Table, RowsRead, new SortedDictionary<string, long>(_counts, StringComparer.Ordinal));

    private static string Truncate(ReadOnlySpan<char> value) =>
        value.Length <= MaxValueLength ? value.ToString() : string.Concat(value[..MaxValueLength], "…");
}
