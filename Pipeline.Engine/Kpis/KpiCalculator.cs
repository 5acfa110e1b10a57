namespace Pipeline.Engine.Kpis;

/// <summary>
/// Turns exact sums and counts into the KPI rows. The divisions are done in double, the way the
/// system we replace did them (sum / count, count / total * 100), so the printed values match its
/// tables digit for digit; the sums feeding them are exact.
/// </summary>
public static class KpiCalculator
{
    public static KpiTables Compute(KpiPartial partial)
    {
        CategoryKpiRow[] categoryRows = partial.CategoryDays
            .Select(day => new CategoryKpiRow(
                day.Category,
                day.OrderDate,
                day.Revenue,
                Average(day.Revenue, day.Items),
                Percentage(day.ReturnedItems, day.Items)))
            .OrderBy(row => row.Category, StringComparer.Ordinal)
            .ThenBy(row => row.OrderDate)
            .ToArray();

        Dictionary<DateOnly, decimal> revenueByDay = partial.CategoryDays
            .GroupBy(day => day.OrderDate)
            .ToDictionary(group => group.Key, group => group.Sum(day => day.Revenue));
        OrderKpiRow[] orderRows = partial.Days
            .Select(day => new OrderKpiRow(
                day.OrderDate,
                day.Orders,
                revenueByDay.GetValueOrDefault(day.OrderDate),
                day.ItemsSold,
                Percentage(day.ReturnedOrders, day.Orders),
                day.CustomerIds.Count))
            .OrderBy(row => row.OrderDate)
            .ToArray();

        return new KpiTables(categoryRows, orderRows);
    }

    private static double Average(decimal sum, long count) => count == 0 ? 0 : (double)sum / count;

    private static double Percentage(long part, long total) => total == 0 ? 0 : (double)part / total * 100;
}
