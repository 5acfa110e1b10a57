using Pipeline.Engine.Csv;
using Pipeline.Engine.Validation;
using Pipeline.Storage.Keys;

namespace Services.Validate.Verdicts;

/// <summary>Why a version is rejected: the report that says it in full, and one line a person can act on. Pure: no I/O.</summary>
public sealed record Verdict(ValidationReport Report, string Reason)
{
    public static Verdict Of(ValidationReport report)
    {
        var first = report.Errors.FirstOrDefault();
        var byRule = report.Files.SelectMany(f => f.ErrorCounts).GroupBy(c => c.Key).Select(g => (Rule: g.Key, Count: g.Sum(c => c.Value)))
            .OrderByDescending(r => r.Count).ToList();
        var rules = string.Join(", ", byRule.Take(3).Select(r => $"{r.Rule} ×{r.Count}"));
        return new Verdict(report, first is null
            ? $"{report.ErrorCount} validation errors ({rules})"
            : $"{report.ErrorCount} validation error{(report.ErrorCount == 1 ? "" : "s")} ({rules}); first: {Describe(first)}");
    }

    /// <summary>
    /// An upload that cannot be read as a batch at all (no manifest, a malformed one, a missing file: <see cref="ValidationRule.UnreadableManifest"/>),
    /// or that is beyond a limit known before reading (the manifest's size, the number or sizes of its files).
    /// </summary>
    public static Verdict Unreadable(string manifestKey, string problem, string rule = ValidationRule.UnreadableManifest) =>
        new(new ValidationReport(false, 0, 1, [], [new ValidationError(manifestKey, 0, null, null, rule, problem)]), problem);

    /// <summary>
    /// A batch that passed every rule, but whose orders or items are counted in another batch in force: its report
    /// with those keys as errors (<see cref="ValidationRule.SeenInBatch"/>), at the lines <paramref name="located"/> found.
    /// </summary>
    public static Verdict KeysCounted(ValidationReport passed, KeyClaim claim, IReadOnlyList<ValidationError> located)
    {
        var errors = located.Count > 0 ? located : claim.FirstConflicts.Select(c => new ValidationError(
            c.Kind == KeyKind.Order ? TableNames.Orders : TableNames.OrderItems, 0, c.Kind == KeyKind.Order ? "order_id" : "id",
            c.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ValidationRule.SeenInBatch, CountedIn(c))).ToList();
        var perFile = errors.GroupBy(e => e.File).ToDictionary(g => g.Key, g => (long)g.Count());
        var files = passed.Files.Select(f => perFile.TryGetValue(f.File, out var count)
            ? f with { ErrorCounts = new SortedDictionary<string, long>(StringComparer.Ordinal) { [ValidationRule.SeenInBatch] = count } }
            : f).ToList();
        var report = new ValidationReport(false, passed.RowsRead, claim.ConflictCount, files, errors);
        var holders = string.Join(", ", claim.FirstConflicts.Select(c => c.Owner).Distinct().Select(o => $"{o.BatchId} (version {o.Version})"));
        var first = errors.FirstOrDefault();
        return new Verdict(report,
            $"{claim.ConflictCount} order or item id{(claim.ConflictCount == 1 ? " is" : "s are")} already counted in batch {holders} " +
            $"({ValidationRule.SeenInBatch} ×{claim.ConflictCount})" +
            (first is null ? "" : $"; first: {Describe(first)}"));
    }

    public static string CountedIn(KeyConflict conflict) =>
        $"{(conflict.Kind == KeyKind.Order ? "Order" : "Order item")} {conflict.Id} is already counted in batch " +
        $"{conflict.Owner.BatchId} (version {conflict.Owner.Version}).";

    public static string Describe(ValidationError error) =>
        $"{error.File}{(error.Line > 0 ? $" line {error.Line}" : "")}{(error.Column is null ? "" : $" column {error.Column}")}: [{error.Rule}] {error.Message}";

    public static Dictionary<string, long> RowCounts(ValidationReport report) => new()
    {
        [TableNames.Products] = report.RowsOf(TableKind.Products),
        [TableNames.Orders] = report.RowsOf(TableKind.Orders),
        [TableNames.OrderItems] = report.RowsOf(TableKind.OrderItems),
    };
}
