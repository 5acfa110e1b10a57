using Pipeline.Cli.Commands;
using Pipeline.Engine.Kpis;

namespace Pipeline.Cli.Tests;

/// <summary>How <c>pipeline smoke</c> names the KPI figures that differ from the engine's.</summary>
public sealed class KpiComparisonTests
{
    private static readonly DateOnly Day = new(1901, 1, 1);

    private static readonly KpiTables Engine = new(
        [new CategoryKpiRow("Books", Day, 120.5m, 40.166666666666664, 0), new CategoryKpiRow("Toys", Day, 7m, 7, 100)],
        [new OrderKpiRow(Day, 4, 127.5m, 5, 25, 3)]);

    [Fact]
    public void The_same_rows_read_back_have_no_differences()
    {
        Assert.Empty(KpiComparison.Differences(Engine, [.. Engine.OrderKpis], [.. Engine.CategoryKpis]));
    }

    [Fact]
    public void Each_differing_figure_missing_row_and_extra_row_is_named()
    {
        OrderKpiRow[] orders = [Engine.OrderKpis[0] with { TotalRevenue = 127.50m + 0.01m, UniqueCustomers = 4 }];
        CategoryKpiRow[] categories = [Engine.CategoryKpis[0] with { AvgOrderValue = 40.16666666666667 }, new CategoryKpiRow("Jeans", Day, 1m, 1, 0)];

        var differences = KpiComparison.Differences(Engine, orders, categories);

        Assert.Equal(
        [
            "order KPIs of 1901-01-01: total_revenue is 127.51 in DynamoDB, the engine computes 127.5",
            "order KPIs of 1901-01-01: unique_customers is 4 in DynamoDB, the engine computes 3",
            "category KPIs of Books on 1901-01-01: avg_order_value is 40.16666666666667 in DynamoDB, the engine computes 40.166666666666664",
            "category KPIs of Toys on 1901-01-01: missing in DynamoDB",
            "category KPIs of Jeans on 1901-01-01: in DynamoDB, but the engine computes no such row",
        ], differences);
    }

    [Fact]
    public void A_decimal_with_trailing_zeros_is_the_same_figure()
    {
        Assert.Empty(KpiComparison.Differences(Engine, [Engine.OrderKpis[0] with { TotalRevenue = 127.500m }], [.. Engine.CategoryKpis]));
    }
}
