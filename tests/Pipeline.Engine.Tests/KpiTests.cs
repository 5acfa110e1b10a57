using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Kpis;
using Pipeline.Testing;

namespace Pipeline.Engine.Tests;

/// <summary>KPIs against the independent oracle, and exact merging of per-batch partials.</summary>
public sealed class KpiTests : IClassFixture<GeneratedBatch>
{
    private readonly GeneratedBatch _generated;

    public KpiTests(GeneratedBatch generated) => _generated = generated;

    [Fact]
    public void Generated_batch_kpis_agree_with_the_oracle_on_every_row()
    {
        AssertAgreesWithOracle(_generated.Directory);
    }

    [SeedDataFact]
    public void Seed_data_kpis_agree_with_the_oracle_on_every_row()
    {
        AssertAgreesWithOracle(SeedData.Directory!);
    }

    [Fact]
    public void Merging_the_partials_of_A_then_B_equals_the_partial_of_A_and_B_together()
    {
        BatchInput whole = LocalBatchFolder.Open(_generated.Directory);
        KpiPartial a = Accepted(Subset(whole, "part1.csv", "part2.csv"));
        KpiPartial b = Accepted(Subset(whole, "part3.csv", "part4.csv"));
        KpiPartial together = Accepted(whole);

        // Through storage, as the services will do it.
        KpiPartial merged = KpiPartial.Merge(KpiPartialJson.Deserialize(KpiPartialJson.Serialize(a)), KpiPartialJson.Deserialize(KpiPartialJson.Serialize(b)));

        Assert.Equal(KpiPartialJson.Serialize(together), KpiPartialJson.Serialize(merged));
        Assert.Equal(KpiPartialJson.Serialize(together), KpiPartialJson.Serialize(KpiPartial.Merge(b, a)));
        Assert.Equal(Csv(together), Csv(merged));
    }

    [Fact]
    public void Merging_counts_a_customer_seen_in_both_batches_once()
    {
        KpiPartial first = Accepted(TestBatches.InMemory());
        KpiPartial twice = KpiPartial.Merge(first, first);

        OrderKpiRow day = KpiCalculator.Compute(twice).OrderKpis.Single(row => row.OrderDate == new DateOnly(2025, 3, 8));
        Assert.Equal(1, day.UniqueCustomers);
        Assert.Equal(2, day.TotalOrders);
        Assert.Equal(39m, day.TotalRevenue);
    }

    [Fact]
    public void Days_with_items_but_no_orders_and_the_reverse_get_rows_with_zeros()
    {
        // Order 2 is created on 03-09 and its only item on 03-10.
        KpiTables tables = KpiCalculator.Compute(Accepted(TestBatches.InMemory()));

        Assert.Equal(
            ["2025-03-08,1,19.5,2,0,1", "2025-03-09,1,0,1,100,0", "2025-03-10,0,12.5,0,0,1"],
            tables.OrderKpis.Select(row => string.Join(
                ',',
                KpiCsv.Format(row.OrderDate), row.TotalOrders, KpiCsv.Format(row.TotalRevenue),
                row.TotalItemsSold, KpiCsv.Format(row.ReturnRate), row.UniqueCustomers)));
    }

    internal static KpiPartial Accepted(BatchInput batch)
    {
        BatchResult result = new BatchProcessor().Process(batch);
        Assert.True(result.Accepted, string.Join("\n", result.Report.Errors));
        return result.Kpis!;
    }

    internal static string Csv(KpiPartial partial)
    {
        KpiTables tables = KpiCalculator.Compute(partial);
        using var category = new StringWriter();
        using var order = new StringWriter();
        KpiCsv.WriteCategoryKpis(category, tables.CategoryKpis);
        KpiCsv.WriteOrderKpis(order, tables.OrderKpis);
        return category + "\n" + order;
    }

    private static void AssertAgreesWithOracle(string directory)
    {
        BatchResult result = new BatchProcessor().Process(LocalBatchFolder.Open(directory));
        Assert.True(result.Accepted, string.Join("\n", result.Report.Errors));
        (string categoryCsv, string orderCsv) = KpiOracle.Compute(directory);

        KpiTables tables = KpiCalculator.Compute(result.Kpis!);
        using var category = new StringWriter();
        using var order = new StringWriter();
        KpiCsv.WriteCategoryKpis(category, tables.CategoryKpis);
        KpiCsv.WriteOrderKpis(order, tables.OrderKpis);

        Assert.Equal(categoryCsv.Split('\n'), category.ToString().Split('\n'));
        Assert.Equal(orderCsv.Split('\n'), order.ToString().Split('\n'));
    }

    /// <summary>Products plus the given orders and items parts (generated parts keep their items' orders together).</summary>
    private static BatchInput Subset(BatchInput whole, params string[] partSuffixes) => new(
        whole.Parts
            .Where(part => part.Table == TableKind.Products || partSuffixes.Any(suffix => part.Name.EndsWith("_" + suffix, StringComparison.Ordinal)))
            .ToArray());
}

/// <summary>One generated batch (4 parts) shared by a test class, removed afterwards.</summary>
public sealed class GeneratedBatch : IDisposable
{
    public string Directory { get; } = TestBatches.Generate(orders: 6_000, parts: 4);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
