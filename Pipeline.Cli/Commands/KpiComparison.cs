using Pipeline.Engine.Kpis;

namespace Pipeline.Cli.Commands;

/// <summary>
/// Which figures of the KPI rows read back differ from the engine's for the same files, each named so a person can look
/// it up: "order KPIs of 1901-01-02: total_revenue is 12.5 in DynamoDB, the engine computes 13.25". Figures are compared as
/// <c>pipeline process</c> writes them (exact decimals, round-trip doubles), so equal text is equal value.
/// </summary>
internal static class KpiComparison
{
    private static readonly string[] OrderFigures = KpiCsv.OrderHeader.Split(',')[1..];
    private static readonly string[] CategoryFigures = KpiCsv.CategoryHeader.Split(',')[2..];

    public static IReadOnlyList<string> Differences(
        KpiTables expected, IReadOnlyList<OrderKpiRow> storedOrders, IReadOnlyList<CategoryKpiRow> storedCategories) =>
    [
        .. Compare("order KPIs", OrderFigures, expected.OrderKpis.Select(OrderRow), storedOrders.Select(OrderRow)),
        .. Compare("category KPIs", CategoryFigures, expected.CategoryKpis.Select(CategoryRow), storedCategories.Select(CategoryRow)),
    ];

    private static (string Key, string[] Figures) OrderRow(OrderKpiRow row) =>
        (KpiCsv.Format(row.OrderDate),
         [
             KpiCsv.Format(row.TotalOrders), KpiCsv.Format(row.TotalRevenue), KpiCsv.Format(row.TotalItemsSold),
             KpiCsv.Format(row.ReturnRate), KpiCsv.Format(row.UniqueCustomers),
         ]);

    private static (string Key, string[] Figures) CategoryRow(CategoryKpiRow row) =>
        ($"{row.Category} on {KpiCsv.Format(row.OrderDate)}",
         [KpiCsv.Format(row.DailyRevenue), KpiCsv.Format(row.AvgOrderValue), KpiCsv.Format(row.AvgReturnRate)]);

    private static IEnumerable<string> Compare(
        string table, string[] names, IEnumerable<(string Key, string[] Figures)> expected, IEnumerable<(string Key, string[] Figures)> stored)
    {
        var read = stored.ToDictionary(r => r.Key, r => r.Figures, StringComparer.Ordinal);
        foreach (var (key, figures) in expected)
        {
            if (!read.Remove(key, out var found))
            {
                yield return $"{table} of {key}: missing in DynamoDB";
                continue;
            }
            for (var i = 0; i < names.Length; i++)
            {
                if (figures[i] != found[i])
                {
                    yield return $"{table} of {key}: {names[i]} is {found[i]} in DynamoDB, the engine computes {figures[i]}";
                }
            }
        }
        foreach (var key in read.Keys.Order(StringComparer.Ordinal))
        {
            yield return $"{table} of {key}: in DynamoDB, but the engine computes no such row";
        }
    }
}
