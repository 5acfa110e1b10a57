using System.Globalization;
using System.Text;

namespace Pipeline.Engine.Tests;

/// <summary>
/// An independent, naive computation of both KPI tables: every row loaded into memory, plain string
/// splitting (the files it is used on have no quoted fields), LINQ grouping, its own formatting.
/// It shares nothing with the engine but the definitions in the issue.
/// </summary>
internal static class KpiOracle
{
    public static (string CategoryCsv, string OrderCsv) Compute(string batchDirectory)
    {
        Dictionary<string, string> categoryByProduct = Load(Path.Combine(batchDirectory, "products.csv"))
            .ToDictionary(product => product["id"], product => product["category"]);
        List<Dictionary<string, string>> orders = LoadAll(batchDirectory, "orders");
        List<Dictionary<string, string>> items = LoadAll(batchDirectory, "order_items");

        var categoryCsv = new StringBuilder("category,order_date,daily_revenue,avg_order_value,avg_return_rate\n");
        var categoryDays = items
            .GroupBy(item => (Category: categoryByProduct[item["product_id"]], Date: item["created_at"][..10]))
            .OrderBy(group => group.Key.Category, StringComparer.Ordinal)
            .ThenBy(group => group.Key.Date, StringComparer.Ordinal);
        foreach (var group in categoryDays)
        {
            decimal revenue = group.Sum(item => decimal.Parse(item["sale_price"], CultureInfo.InvariantCulture));
            int count = group.Count();
            int returned = group.Count(item => item["status"] == "returned");
            categoryCsv.Append(
                CultureInfo.InvariantCulture,
                $"{group.Key.Category},{group.Key.Date},{Exact(revenue)},{Real((double)revenue / count)},{Real((double)returned / count * 100)}\n");
        }

        var orderCsv = new StringBuilder("order_date,total_orders,total_revenue,total_items_sold,return_rate,unique_customers\n");
        IEnumerable<string> days = orders.Select(order => order["created_at"][..10])
            .Union(items.Select(item => item["created_at"][..10]))
            .Order(StringComparer.Ordinal);
        foreach (string day in days)
        {
            var dayOrders = orders.Where(order => order["created_at"].StartsWith(day, StringComparison.Ordinal)).ToList();
            var dayItems = items.Where(item => item["created_at"].StartsWith(day, StringComparison.Ordinal)).ToList();
            decimal revenue = dayItems.Sum(item => decimal.Parse(item["sale_price"], CultureInfo.InvariantCulture));
            int itemsSold = dayOrders.Sum(order => int.Parse(order["num_of_item"], CultureInfo.InvariantCulture));
            int returned = dayOrders.Count(order => order["status"] == "returned");
            double returnRate = dayOrders.Count == 0 ? 0 : (double)returned / dayOrders.Count * 100;
            int customers = dayItems.Select(item => item["user_id"]).Distinct().Count();
            orderCsv.Append(CultureInfo.InvariantCulture, $"{day},{dayOrders.Count},{Exact(revenue)},{itemsSold},{Real(returnRate)},{customers}\n");
        }

        return (categoryCsv.ToString(), orderCsv.ToString());
    }

    private static List<Dictionary<string, string>> LoadAll(string batchDirectory, string table)
    {
        string folder = Path.Combine(batchDirectory, table);
        IEnumerable<string> files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.csv") : [Path.Combine(batchDirectory, table + ".csv")];
        return files.SelectMany(Load).ToList();
    }

    private static IEnumerable<Dictionary<string, string>> Load(string file)
    {
        string[] lines = File.ReadAllLines(file);
        string[] header = lines[0].Split(',');
        return lines.Skip(1).Select(line => header.Zip(line.Split(',')).ToDictionary(pair => pair.First, pair => pair.Second));
    }

    private static string Exact(decimal value)
    {
        string text = value.ToString(CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) ? text.TrimEnd('0').TrimEnd('.') : text;
    }

    private static string Real(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
