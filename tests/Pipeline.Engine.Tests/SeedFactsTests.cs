using Pipeline.Engine.Batches;
using Pipeline.Engine.Kpis;
using Pipeline.Testing;

namespace Pipeline.Engine.Tests;

public sealed class SeedFactsTests
{
    [SeedDataFact]
    public void Seed_data_is_accepted_and_gives_the_old_systems_kpis()
    {
        BatchResult result = new BatchProcessor().Process(LocalBatchFolder.Open(SeedData.Directory!));

        Assert.True(result.Accepted, string.Join("\n", result.Report.Errors.Select(error => error.ToString())));
        Assert.Equal(10_000 + 9_000 + 27_007, result.Report.RowsRead);
        KpiTables tables = KpiCalculator.Compute(result.Kpis!);

        CategoryKpiRow electronics = Assert.Single(tables.CategoryKpis, row => row.Category == "Electronics" && row.OrderDate == new DateOnly(2025, 3, 8));
        Assert.Equal("9599.86", KpiCsv.Format(electronics.DailyRevenue));
        Assert.Equal("78.04764227642276", KpiCsv.Format(electronics.AvgOrderValue));
        Assert.Equal("18.69918699186992", KpiCsv.Format(electronics.AvgReturnRate));

        OrderKpiRow day = Assert.Single(tables.OrderKpis, row => row.OrderDate == new DateOnly(2025, 3, 25));
        Assert.Equal(342, day.TotalOrders);
        Assert.Equal(999, day.TotalItemsSold);
        Assert.Equal("79223.33", KpiCsv.Format(day.TotalRevenue));
        Assert.Equal(340, day.UniqueCustomers);
        Assert.Equal("18.421052631578945", KpiCsv.Format(day.ReturnRate));
    }
}
