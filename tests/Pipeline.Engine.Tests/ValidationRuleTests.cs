using System.Reflection;
using System.Text;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Validation;
using static Pipeline.Engine.Tests.TestBatches;

namespace Pipeline.Engine.Tests;

/// <summary>One minimal crafted batch per rule: exactly one error, with its rule id, file, line and column.</summary>
public sealed class ValidationRuleTests
{
    /// <summary>
    /// Limits small enough for the crafted batch to reach each one with a small change (the batch as written has 3 files
    /// of at most 250 bytes, 10 fields a row, 2 categories, 3 days, and its ids on 4 ranges of 4,096: one of order ids, one of
    /// item ids, one of customers on each of two days, which are 2 pages of 65,536 customer ids).
    /// </summary>
    public static BatchLimits SmallLimits { get; } = new()
    {
        MaxLineBytes = 200,
        MaxFiles = 3,
        MaxFileBytes = 500,
        MaxBatchBytes = 1_000,
        MaxDecompressedFileBytes = 500,
        MaxDecompressedBatchBytes = 800,
        MaxFields = 10,
        MaxCategories = 2,
        MaxCategoryChars = 20,
        MaxDays = 3,
        MaxIdRanges = 4,
        MaxCustomerPages = 2,
    };

    /// <summary>rule, batch, file, line, column.</summary>
    public static TheoryData<string, Func<BatchInput>, string, long, string?> Cases { get; } = new()
    {
        { ValidationRule.MissingFile, () => InMemory(items: null), "order_items/", 0, null },
        { ValidationRule.EmptyFile, () => InMemory(orders: ""), "orders.csv", 0, null },
        { ValidationRule.MissingColumn, () => InMemory(orders: Orders.Replace("status,", "state,", StringComparison.Ordinal)), "orders.csv", 1, "status" },
        { ValidationRule.DuplicateColumn, () => InMemory(orders: Orders.Replace("returned_at", "order_id", StringComparison.Ordinal)), "orders.csv", 1, null },
        { ValidationRule.FieldCount, () => InMemory(items: Items.Replace(",,,,7", ",,,7", StringComparison.Ordinal)), "order_items.csv", 3, null },
        { ValidationRule.UnterminatedQuote, () => InMemory(products: Products.Replace("4,Books", "4,\"Books", StringComparison.Ordinal)),
            "products.csv", 4, "category" },
        { ValidationRule.InvalidUtf8, InvalidUtf8Orders, "orders.csv", 3, "status" },
        { ValidationRule.LineTooLong, () => InMemory(products: Products.Replace("Spare", new string('x', 300), StringComparison.Ordinal)),
            "products.csv", 4, null },
        { ValidationRule.RequiredValue, () => InMemory(orders: Orders.Replace("2,11,returned", "2,,returned", StringComparison.Ordinal)),
            "orders.csv", 3, "user_id" },
        { ValidationRule.InvalidId, () => InMemory(items: Items.Replace("2,1,10,2,", "2,1,10,x2,", StringComparison.Ordinal)),
            "order_items.csv", 3, "product_id" },
        { ValidationRule.InvalidStatus, () => InMemory(orders: Orders.Replace("10,delivered", "10,Delivered", StringComparison.Ordinal)),
            "orders.csv", 2, "status" },
        { ValidationRule.InvalidCreatedAt, () => InMemory(orders: Orders.Replace("2025-03-09T23:30:00", "2025-02-30T23:30:00", StringComparison.Ordinal)),
            "orders.csv", 3, "created_at" },
        { ValidationRule.InvalidTimestamp, () => InMemory(orders: Orders.Replace("2025-03-09T10:00:00", "2025-03-09 10:00:00", StringComparison.Ordinal)),
            "orders.csv", 2, "shipped_at" },
        { ValidationRule.InvalidSalePrice, () => InMemory(items: Items.Replace(",,,,7\n", ",,,,\"1,007.00\"\n", StringComparison.Ordinal)),
            "order_items.csv", 3, "sale_price" },
        { ValidationRule.InvalidItemCount, () => InMemory(orders: Orders.Replace("10:00:00,1\n", "10:00:00,0\n", StringComparison.Ordinal)),
            "orders.csv", 3, "num_of_item" },
        { ValidationRule.DuplicateKey, () => InMemory(orders: Orders.Replace("2,11,returned", "1,11,returned", StringComparison.Ordinal), items: ItemsHeader),
            "orders.csv", 3, "order_id" },
        { ValidationRule.UnknownOrder, () => InMemory(items: Items.Replace("3,2,11,1", "3,9,11,1", StringComparison.Ordinal)),
            "order_items.csv", 4, "order_id" },
        { ValidationRule.UnknownProduct, () => InMemory(items: Items.Replace("2,1,10,2,", "2,1,10,5,", StringComparison.Ordinal)),
            "order_items.csv", 3, "product_id" },
        { ValidationRule.TooManyFields, () => InMemory(items: Items.Replace(",,,,7\n", ",,,,7,x\n", StringComparison.Ordinal)), "order_items.csv", 3, null },
        { ValidationRule.TooManyFiles, () => InMemory([Part("products.csv", TableKind.Products, Products)],
            [Part("orders/a.csv", TableKind.Orders, Orders), Part("orders/b.csv", TableKind.Orders, OrdersHeader)],
            [Part("order_items.csv", TableKind.OrderItems, Items)]), "order_items.csv", 0, null },
        { ValidationRule.FileTooLarge, () => InMemory(orders: Orders + new string('\n', 300)), "orders.csv", 0, null },
        { ValidationRule.BatchTooLarge, () => InMemory(orders: Orders + new string('\n', 200), items: Items + new string('\n', 200)),
            "order_items.csv", 0, null },
        { ValidationRule.DecompressedFileTooLarge, () => InMemory([Part("products.csv", TableKind.Products, Products)],
            [Gzipped("orders.csv.gz", TableKind.Orders, Orders + new string('\n', 300))], [Part("order_items.csv", TableKind.OrderItems, Items)]),
            "orders.csv.gz", 304, null },
        { ValidationRule.DecompressedBatchTooLarge, () => InMemory([Part("products.csv", TableKind.Products, Products)],
            [Gzipped("orders.csv.gz", TableKind.Orders, Orders + new string('\n', 200))],
            [Gzipped("order_items.csv.gz", TableKind.OrderItems, Items + new string('\n', 200))]), "order_items.csv.gz", 205, null },
        { ValidationRule.CorruptCompressed, () => InMemory([Part("products.csv", TableKind.Products, Products)],
            [Part("orders.csv.gz", TableKind.Orders, Orders)], [Part("order_items.csv", TableKind.OrderItems, Items)]), "orders.csv.gz", 1, null },
        { ValidationRule.CategoryTooLong,
            () => InMemory(products: Products.Replace("4,Books,Spare", "4,Books and a great many other things,Spare", StringComparison.Ordinal)),
            "products.csv", 4, "category" },
        { ValidationRule.TooManyCategories, () => InMemory(products: Products.Replace("4,Books,Spare", "4,Games,Spare", StringComparison.Ordinal)),
            "products.csv", 4, "category" },
        // Line 3 opens a fourth range of ids (allowed), line 4 a fifth.
        { ValidationRule.IdsTooScattered, () => InMemory(items: Items.Replace("2,1,10,2,", "5000,1,10,2,", StringComparison.Ordinal)),
            "order_items.csv", 4, null },
        // Line 3 brings a third day (allowed), line 4 a fourth.
        { ValidationRule.TooManyDays, () => InMemory(items: Items.Replace("2025-03-08T10:06:00", "2025-03-11T10:06:00", StringComparison.Ordinal)),
            "order_items.csv", 4, "created_at" },
    };

    [Fact]
    public void The_crafted_batch_is_valid_as_written()
    {
        BatchResult result = Process(InMemory(), new EngineOptions { Limits = SmallLimits });
        Assert.True(result.Accepted, Describe(result));
        Assert.Equal(8, result.Report.RowsRead);
    }

    [Fact]
    public void A_price_with_a_19th_decimal_place_is_invalid_as_the_curated_parquet_could_not_hold_it_exactly() =>
        Each_rule_reports_one_error_with_its_file_line_and_column(ValidationRule.InvalidSalePrice,
            () => InMemory(items: Items.Replace(",,,,7\n", ",,,,7.0000000000000000001\n", StringComparison.Ordinal)), "order_items.csv", 3, "sale_price");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_rule_reports_one_error_with_its_file_line_and_column(string rule, Func<BatchInput> batch, string file, long line, string? column)
    {
        BatchResult result = Process(batch(), new EngineOptions { Limits = SmallLimits });

        Assert.False(result.Accepted);
        Assert.Null(result.Kpis);
        Assert.True(result.Report.Errors.Count == 1, Describe(result));
        ValidationError error = result.Report.Errors[0];
        Assert.Equal((rule, file, line, column), (error.Rule, error.File, error.Line, error.Column));
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.Equal(1, result.Report.ErrorCount);
        Assert.Equal(1, result.Report.Files.Single(report => report.File == file).ErrorCounts[rule]);
    }

    [Fact]
    public void Every_rule_id_the_batch_alone_can_break_has_a_crafted_case()
    {
        IEnumerable<string> rules = typeof(ValidationRule).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral)
            .Select(field => (string)field.GetRawConstantValue()!)
            // Judged against other batches, after reading: see the next test. The manifest's rules are judged in S3 (tests/Pipeline.Storage.Tests).
            .Except([ValidationRule.SeenInBatch, ValidationRule.ManifestTooLarge, ValidationRule.UnreadableManifest]);
        Assert.Equal(rules.Order(), Cases.Select(row => (string)row[0]).Order());
    }

    [Fact]
    public void Keys_judged_after_reading_are_located_at_their_file_and_line_with_their_own_message()
    {
        BatchInput batch = InMemory(
            [Part("products.csv", TableKind.Products, Products)],
            [
                Part("orders/part1.csv", TableKind.Orders, Orders),
                Part("orders/part2.csv", TableKind.Orders, OrdersHeader + "3,12,pending,2025-03-09T08:00:00,,,,1\n"),
            ],
            [Part("order_items.csv", TableKind.OrderItems, Items)]);

        IReadOnlyList<ValidationError> found = new BatchProcessor().LocateKeys(batch, TableKind.Orders, ValidationRule.SeenInBatch,
            new Dictionary<long, string> { [3] = "Order 3 is already counted in batch b (version 1).", [404] = "not in the batch" });

        ValidationError error = Assert.Single(found);
        Assert.Equal(("orders/part2.csv", 2L, "order_id", "3", ValidationRule.SeenInBatch), (error.File, error.Line, error.Column, error.Value, error.Rule));
        Assert.Equal("Order 3 is already counted in batch b (version 1).", error.Message);
    }

    [Fact]
    public void A_duplicate_key_across_parts_is_reported_at_its_line()
    {
        BatchInput batch = InMemory(
            [Part("products.csv", TableKind.Products, Products)],
            [
                Part("orders/part1.csv", TableKind.Orders, Orders),
                Part("orders/part2.csv", TableKind.Orders, OrdersHeader + "3,12,pending,2025-03-09T08:00:00,,,,1\n2,12,pending,2025-03-09T08:00:00,,,,1\n"),
            ],
            [Part("order_items.csv", TableKind.OrderItems, Items)]);

        BatchResult result = Process(batch);

        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal(ValidationRule.DuplicateKey, error.Rule);
        Assert.Equal("order_id", error.Column);
        Assert.Equal("2", error.Value);
        Assert.Equal(3, error.Line); // order 2 is on line 3 of either part
    }

    [Fact]
    public void Quoted_line_breaks_do_not_shift_the_line_numbers_of_later_errors()
    {
        string orders = "order_id,user_id,status,created_at,returned_at,shipped_at,delivered_at,num_of_item,note\n" +
            "1,10,delivered,2025-03-08T10:00:00,,,,2,\"two\nlines, \"\"quoted\"\"\"\n" +
            "2,11,lost,2025-03-09T23:30:00,,,,1,\n";

        BatchResult result = Process(InMemory(orders: orders, items: ItemsHeader));

        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal((ValidationRule.InvalidStatus, 4L, "status"), (error.Rule, error.Line, error.Column));
    }

    [Fact]
    public void A_header_only_part_is_valid_and_empty()
    {
        BatchResult result = Process(InMemory(
            [Part("products.csv", TableKind.Products, Products)],
            [Part("orders/part1.csv", TableKind.Orders, Orders), Part("orders/part2.csv", TableKind.Orders, OrdersHeader)],
            [Part("order_items.csv", TableKind.OrderItems, Items)]));

        Assert.True(result.Accepted, Describe(result));
        Assert.Equal(0, result.Report.Files.Single(file => file.File == "orders/part2.csv").RowsRead);
    }

    [Fact]
    public void A_garbage_file_gives_a_handful_of_errors_and_no_crash()
    {
        var random = new Random(3);
        var garbage = new byte[2_000_000];
        random.NextBytes(garbage);

        BatchResult result = Process(InMemory(
            [Part("products.csv", TableKind.Products, Products)],
            [Part("orders.csv", TableKind.Orders, garbage)],
            [Part("order_items.csv", TableKind.OrderItems, Items)]));

        Assert.False(result.Accepted);
        Assert.True(result.Report.ErrorCount is >= 1 and <= 20, Describe(result));
        Assert.All(result.Report.Errors, error => Assert.Equal("orders.csv", error.File));
    }

    [Fact]
    public void A_record_longer_than_the_limit_stops_the_file_without_buffering_it()
    {
        string endless = OrdersHeader + "1,10,delivered,\"" + new string('x', 1_000_000);

        BatchResult result = Process(InMemory(orders: endless, items: ItemsHeader));

        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal((ValidationRule.LineTooLong, 2L), (error.Rule, error.Line));
        Assert.Contains("rest of the file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_are_counted_in_full_but_listed_only_up_to_the_limit()
    {
        var orders = new StringBuilder(OrdersHeader);
        for (int order = 1; order <= 500; order++)
        {
            orders.Append(order).Append(",10,lost,2025-03-08T10:00:00,,,,1\n");
        }

        BatchResult result = Process(InMemory(orders: orders.ToString(), items: ItemsHeader));

        Assert.Equal(500, result.Report.ErrorCount);
        Assert.Equal(100, result.Report.Errors.Count);
        Assert.Equal(Enumerable.Range(2, 100).Select(line => (long)line), result.Report.Errors.Select(error => error.Line));
    }

    [Fact]
    public void The_report_round_trips_through_json()
    {
        ValidationReport report = Process(InMemory(items: Items.Replace("3,2,11,1", "3,9,11,1", StringComparison.Ordinal))).Report;

        string json = ReportJson.Serialize(report);
        ValidationReport back = ReportJson.Deserialize(json);

        Assert.Contains("\"rule\": \"ref.unknown_order\"", json, StringComparison.Ordinal);
        Assert.Equal(json, ReportJson.Serialize(back));
    }

    private static BatchInput InvalidUtf8Orders()
    {
        byte[] valid = Encoding.UTF8.GetBytes(Orders);
        valid[Orders.IndexOf("11,returned", StringComparison.Ordinal) + 5] = 0xFF;
        return InMemory(
            [Part("products.csv", TableKind.Products, Products)],
            [Part("orders.csv", TableKind.Orders, valid)],
            [Part("order_items.csv", TableKind.OrderItems, Items.Replace("3,2,11,1", "3,1,11,1", StringComparison.Ordinal))]);
    }

    private static string Describe(BatchResult result) => string.Join("\n", result.Report.Errors);
}
