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
            .Select(day => CategoryRow(day.Category, day.OrderDate, day.Revenue, day.Items, day.ReturnedItems))
            .OrderBy(row => row.Category, StringComparer.Ordinal)
            .ThenBy(row => row.OrderDate)
            .ToArray();

        Dictionary<DateOnly, decimal> revenueByDay = partial.CategoryDays
            .GroupBy(day => day.OrderDate)
            .ToDictionary(group => group.Key, group => group.Sum(day => day.Revenue));
        OrderKpiRow[] orderRows = partial.Days
            .Select(day => OrderRow(
                day.OrderDate, day.Orders, revenueByDay.GetValueOrDefault(day.OrderDate), day.ItemsSold, day.ReturnedOrders, day.CustomerIds.Count))
            .OrderBy(row => row.OrderDate)
            .ToArray();

        return new KpiTables(categoryRows, orderRows);
    }

    /// <summary>The category_kpis row of one category on one day, from its exact sums: the one definition of those KPIs.</summary>
    public static CategoryKpiRow CategoryRow(string category, DateOnly day, decimal revenue, long items, long returnedItems) =>
        new(category, day, revenue, Average(revenue, items), Percentage(returnedItems, items));

    /// <summary>The order_kpis row of one day, from its exact sums and distinct-customer count: the one definition of those KPIs.</summary>
    public static OrderKpiRow OrderRow(DateOnly day, long orders, decimal revenue, long itemsSold, long returnedOrders, long uniqueCustomers) =>
        new(day, orders, revenue, itemsSold, Percentage(returnedOrders, orders), uniqueCustomers);

    private static double Average(decimal sum, long count) => count == 0 ? 0 : (double)sum / count;

    private static double Percentage(long part, long total) => total == 0 ? 0 : (double)part / total * 100;
}
