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

    public static void WriteCategoryKpis(TextWriter writer, IEnumerable<CategoryKpiRow> rows) =>
        WriteTable(writer, CategoryHeader, rows, row =>
            [Quote(row.Category), Format(row.OrderDate), Format(row.DailyRevenue), Format(row.AvgOrderValue), Format(row.AvgReturnRate)]);

    public static void WriteOrderKpis(TextWriter writer, IEnumerable<OrderKpiRow> rows) =>
        WriteTable(writer, OrderHeader, rows, row =>
        [
            Format(row.OrderDate),
            Format(row.TotalOrders),
            Format(row.TotalRevenue),
            Format(row.TotalItemsSold),
            Format(row.ReturnRate),
            Format(row.UniqueCustomers),
        ]);

    public static string Format(decimal value) =>
        // Dividing by 1.000…0 drops trailing zeros of the scale without rounding (100.10 → 100.1).
        (value / 1.000000000000000000000000000000000m).ToString(CultureInfo.InvariantCulture);

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Format(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static void WriteTable<TRow>(TextWriter writer, string header, IEnumerable<TRow> rows, Func<TRow, string[]> fields)
    {
        writer.Write(header + "\n");
        foreach (TRow row in rows)
        {
            writer.Write(string.Join(',', fields(row)) + "\n");
        }
    }

    private static string Quote(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
