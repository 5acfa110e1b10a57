using System.Globalization;

namespace Pipeline.Engine.Kpis;

/// <summary>
/// Writes the KPI tables as CSV: invariant culture, decimals exact without trailing zeros,
/// doubles in their shortest round-trip form.
/// </summary>
public static class KpiCsv
{
    public const string CategoryHeader = "category,order_date,daily_revenue,avg_order_value,avg_return_rate";
    public const string OrderHeader = "order_date,total_orders,total_revenue,total_items_sold,return_rate,unique_customers";

    public static void WriteCategoryKpis(TextWriter writer, IEnumerable<CategoryKpiRow> rows)
    {
        writer.Write(CategoryHeader + "\n");
        foreach (CategoryKpiRow row in rows)
        {
            writer.Write(string.Join(
                ',',
                Quote(row.Category),
                Format(row.OrderDate),
                Format(row.DailyRevenue),
                Format(row.AvgOrderValue),
                Format(row.AvgReturnRate)));
            writer.Write('\n');
        }
    }

    public static void WriteOrderKpis(TextWriter writer, IEnumerable<OrderKpiRow> rows)
    {
        writer.Write(OrderHeader + "\n");
        foreach (OrderKpiRow row in rows)
        {
            writer.Write(string.Join(
                ',',
                Format(row.OrderDate),
                row.TotalOrders.ToString(CultureInfo.InvariantCulture),
                Format(row.TotalRevenue),
                row.TotalItemsSold.ToString(CultureInfo.InvariantCulture),
                Format(row.ReturnRate),
                row.UniqueCustomers.ToString(CultureInfo.InvariantCulture)));
            writer.Write('\n');
        }
    }

    public static string Format(decimal value) =>
        // Dividing by 1.000…0 drops trailing zeros of the scale without rounding (100.10 → 100.1).
        (value / 1.000000000000000000000000000000000m).ToString(CultureInfo.InvariantCulture);

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Format(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Quote(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
