using Pipeline.Engine.Csv;
using Pipeline.Engine.Validation;
using Pipeline.Storage.Keys;
using Services.Validate.Verdicts;

namespace Services.Tests;

/// <summary>Why a version is rejected, in one line a person can act on, and the report behind it (Verdict, pure).</summary>
public class VerdictTests
{
    private static readonly ValidationError BadStatus =
        new("orders/p1.csv", 12, "status", "teleported", "field.invalid_status", "'teleported' is not an order status");

    private const string BadStatusDescribed = "orders/p1.csv line 12 column status: [field.invalid_status] 'teleported' is not an order status";

    private static ValidationReport Report(
        long errorCount, IReadOnlyList<ValidationError> errors, params (string File, TableKind Table, long Rows, (string Rule, long Count)[] Errors)[] files) =>
        new(errorCount == 0, files.Sum(f => f.Rows), errorCount,
            files.Select(f => new FileReport(f.File, f.Table, f.Rows, f.Errors.ToDictionary(e => e.Rule, e => e.Count))).ToList(), errors);

    [Fact]
    public void A_rejection_by_the_rules_names_the_three_most_frequent_rules_and_the_first_error()
    {
        var report = Report(6, [BadStatus],
            ("orders/p1.csv", TableKind.Orders, 100, [("field.invalid_status", 3), ("field.missing", 1)]),
            ("order_items/p1.csv", TableKind.OrderItems, 300, [("field.invalid_status", 1), ("field.negative", 1)]));

        var verdict = Verdict.Of(report);

        Assert.Same(report, verdict.Report);
        Assert.Equal($"6 validation errors (field.invalid_status ×4, field.missing ×1, field.negative ×1); first: {BadStatusDescribed}", verdict.Reason);
    }

    [Fact]
    public void One_error_is_said_in_the_singular_and_a_report_without_its_errors_listed_gives_the_count_alone()
    {
        Assert.Equal($"1 validation error (field.invalid_status ×1); first: {BadStatusDescribed}",
            Verdict.Of(Report(1, [BadStatus], ("orders/p1.csv", TableKind.Orders, 100, [("field.invalid_status", 1)]))).Reason);
        Assert.Equal("2 validation errors (field.missing ×2)",
            Verdict.Of(Report(2, [], ("orders/p1.csv", TableKind.Orders, 100, [("field.missing", 2)]))).Reason);
    }

    [Fact]
    public void An_unreadable_upload_is_its_problem_as_the_one_error_of_its_manifest()
    {
        var verdict = Verdict.Unreadable("data/b/manifest_b.json", "the manifest data/b/manifest_b.json does not exist in bucket x");
        var beyond = Verdict.Unreadable("data/b/manifest_b.json", "too many files", ValidationRule.TooManyFiles);

        Assert.Equal("the manifest data/b/manifest_b.json does not exist in bucket x", verdict.Reason);
        Assert.Equal((false, 1L, 0L), (verdict.Report.Accepted, verdict.Report.ErrorCount, verdict.Report.RowsRead));
        Assert.Equal(new ValidationError("data/b/manifest_b.json", 0, null, null, ValidationRule.UnreadableManifest, verdict.Reason),
            Assert.Single(verdict.Report.Errors));
        Assert.Equal(ValidationRule.TooManyFiles, Assert.Single(beyond.Report.Errors).Rule);
        Assert.Equal("data/b/manifest_b.json: [manifest] the manifest data/b/manifest_b.json does not exist in bucket x",
            Verdict.Describe(verdict.Report.Errors[0]));
    }

    [Fact]
    public void Ids_counted_in_another_batch_are_the_errors_at_the_lines_found_and_name_the_holders()
    {
        var passed = Report(0, [], ("orders/p1.csv", TableKind.Orders, 100, []), ("order_items/p1.csv", TableKind.OrderItems, 300, []));
        var claim = new KeyClaim(
            [new KeyConflict(KeyKind.Order, 7, new KeyOwner("other", 2)), new KeyConflict(KeyKind.OrderItem, 70, new KeyOwner("third", 1))], 5, []);
        var located = new[]
        {
            new ValidationError("orders/p1.csv", 8, "order_id", "7", ValidationRule.SeenInBatch, Verdict.CountedIn(claim.FirstConflicts[0])),
        };

        var verdict = Verdict.KeysCounted(passed, claim, located);

        Assert.Equal("5 order or item ids are already counted in batch other (version 2), third (version 1) (key.seen_in_batch ×5); " +
            "first: orders/p1.csv line 8 column order_id: [key.seen_in_batch] Order 7 is already counted in batch other (version 2).", verdict.Reason);
        Assert.Equal((false, 400L, 5L), (verdict.Report.Accepted, verdict.Report.RowsRead, verdict.Report.ErrorCount));
        Assert.Equal(located, verdict.Report.Errors);
        Assert.Equal(1, verdict.Report.Files[0].ErrorCounts[ValidationRule.SeenInBatch]);
        Assert.Empty(verdict.Report.Files[1].ErrorCounts);
    }

    [Fact]
    public void Ids_not_found_again_in_the_files_are_reported_by_table_and_id_alone()
    {
        var passed = Report(0, [], ("orders/p1.csv", TableKind.Orders, 100, []));
        var claim = new KeyClaim([new KeyConflict(KeyKind.OrderItem, 70, new KeyOwner("other", 2))], 1, []);

        var verdict = Verdict.KeysCounted(passed, claim, []);

        Assert.Equal(
            new ValidationError("order_items", 0, "id", "70", ValidationRule.SeenInBatch, "Order item 70 is already counted in batch other (version 2)."),
            Assert.Single(verdict.Report.Errors));
        Assert.StartsWith("1 order or item id is already counted in batch other (version 2) (key.seen_in_batch ×1); first: order_items column id:",
            verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_row_counts_are_per_table()
    {
        var report = Report(0, [], ("products.csv", TableKind.Products, 5, []), ("orders/a.csv", TableKind.Orders, 10, []),
            ("orders/b.csv", TableKind.Orders, 20, []), ("order_items/a.csv", TableKind.OrderItems, 70, []));

        Assert.Equal(new Dictionary<string, long> { ["products"] = 5, ["orders"] = 30, ["order_items"] = 70 }, Verdict.RowCounts(report));
    }
}
