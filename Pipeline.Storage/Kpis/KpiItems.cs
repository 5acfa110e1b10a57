using System.Globalization;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.Kpis;

namespace Pipeline.Storage.Kpis;

/// <summary>How KPI data is laid out in DynamoDB items. KPI attributes are named exactly like the KPI fields.</summary>
internal static class KpiItems
{
    public const string OrderDate = "order_date";
    public const string Category = "category";
    public const string BatchId = "batch_id";
    public const string Part = "part";

    /// <summary>Of a day-state item: how often it was changed. Of a KPI row: the sum of those of the items it was computed from.</summary>
    public const string Version = "version";

    /// <summary>Of a day-state item: the version of each batch folded into it (batch name to version).</summary>
    public const string Applied = "applied";

    public const string StateVersion = "state_version";

    /// <summary>A KPI row whose day or category no longer has data (every batch that had it was replaced or retracted).</summary>
    public const string Removed = "removed";

    public const string UpdatedAt = "updated_at";
    public const string DistinctCustomers = "distinct_customers";
    public const string Counts = "counts";
    public const string Ids = "ids";

    public const string TotalsPart = "totals";
    public const string SummaryPrefix = "s#";

    public static string Date(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly Date(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly Date(AttributeValue value) => Date(value.S);

    public static AttributeValue Timestamp(DateTimeOffset at) => new(at.ToString("O", CultureInfo.InvariantCulture));

    public static AttributeValue Number(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    public static AttributeValue Number(decimal value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    /// <summary>Round-trip precision, so that a stored rate reads back as the same double.</summary>
    public static AttributeValue Number(double value) => new() { N = value.ToString("R", CultureInfo.InvariantCulture) };

    public static long Long(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) && value.N is { } n ? long.Parse(n, CultureInfo.InvariantCulture) : 0;

    public static decimal Decimal(Dictionary<string, AttributeValue> item, string name) => decimal.Parse(item[name].N, NumberStyles.Float, CultureInfo.InvariantCulture);

    public static double Double(Dictionary<string, AttributeValue> item, string name) => double.Parse(item[name].N, NumberStyles.Float, CultureInfo.InvariantCulture);

    // Contributions (pipeline-kpi-contributions, key batch_id + part): per version of a batch, what it brings.

    public static string SummaryPart(int version) => $"{SummaryPrefix}{version:D6}";

    public static string DayPart(int version, DateOnly day) => $"d#{version:D6}#{Date(day)}";

    public static string CustomersPart(int version, DateOnly day, long page) => $"c#{version:D6}#{Date(day)}#{page:D10}";

    public static int VersionOfSummary(string part) => int.Parse(part[SummaryPrefix.Length..], CultureInfo.InvariantCulture);

    public static Dictionary<string, AttributeValue> ContributionKey(string batchId, string part) => new()
    {
        [BatchId] = new AttributeValue(batchId),
        [Part] = new AttributeValue(part),
    };

    // Day state (pipeline-kpi-days, key order_date + part): "totals" and "customers#<page>".

    public static string CustomerCountsPart(long page) => $"customers#{page:D10}";

    public static Dictionary<string, AttributeValue> DayKey(DateOnly day, string part) => new()
    {
        [OrderDate] = new AttributeValue(Date(day)),
        [Part] = new AttributeValue(part),
    };

    /// <summary>The sums and counts of a day (a contribution's, or the folded state's), under the same attribute names in both tables.</summary>
    public static void WriteTotals(Dictionary<string, AttributeValue> item, DayTotals totals)
    {
        item["orders"] = Number(totals.Orders);
        item["items_sold"] = Number(totals.ItemsSold);
        item["returned_orders"] = Number(totals.ReturnedOrders);
        item["categories"] = new AttributeValue
        {
            M = totals.Categories.ToDictionary(c => c.Key, c => new AttributeValue
            {
                M = new()
                {
                    ["revenue"] = Number(c.Value.Revenue),
                    ["items"] = Number(c.Value.Items),
                    ["returned_items"] = Number(c.Value.ReturnedItems),
                },
            }),
            IsMSet = true,
        };
    }

    public static DayTotals ReadTotals(Dictionary<string, AttributeValue>? item)
    {
        if (item is null || !item.ContainsKey("orders"))
        {
            return DayTotals.Empty;
        }
        var categories = (item.TryGetValue("categories", out var map) ? map.M : null) ?? [];
        return new DayTotals(Long(item, "orders"), Long(item, "items_sold"), Long(item, "returned_orders"),
            categories.ToDictionary(c => c.Key, c => new CategorySums(Decimal(c.Value.M, "revenue"), Long(c.Value.M, "items"), Long(c.Value.M, "returned_items")),
                StringComparer.Ordinal));
    }

    public static Dictionary<string, int> ReadApplied(Dictionary<string, AttributeValue>? item) =>
        (item is not null && item.TryGetValue(Applied, out var map) ? map.M : null)?
            .ToDictionary(a => a.Key, a => int.Parse(a.Value.N, CultureInfo.InvariantCulture)) ?? [];

    public static AttributeValue AppliedMap(Dictionary<string, int> applied) =>
        new() { M = applied.ToDictionary(a => a.Key, a => Number(a.Value)), IsMSet = true };

    public static AttributeValue Binary(byte[] bytes) => new() { B = new MemoryStream(bytes, writable: false) };

    public static byte[]? BytesOf(Dictionary<string, AttributeValue>? item, string name) =>
        item is not null && item.TryGetValue(name, out var value) && value.B is { } stream ? stream.ToArray() : null;

    // KPI rows.

    public static readonly string[] OrderRowAttributes = [OrderDate, "total_orders", "total_revenue", "total_items_sold", "return_rate", "unique_customers"];

    public static readonly string[] CategoryRowAttributes = [Category, OrderDate, "daily_revenue", "avg_order_value", "avg_return_rate"];

    public static Dictionary<string, AttributeValue> OrderRow(OrderKpiRow row, long stateVersion, DateTimeOffset now) => new()
    {
        [OrderDate] = new AttributeValue(Date(row.OrderDate)),
        ["total_orders"] = Number(row.TotalOrders),
        ["total_revenue"] = Number(row.TotalRevenue),
        ["total_items_sold"] = Number(row.TotalItemsSold),
        ["return_rate"] = Number(row.ReturnRate),
        ["unique_customers"] = Number(row.UniqueCustomers),
        [StateVersion] = Number(stateVersion),
        [UpdatedAt] = Timestamp(now),
    };

    public static OrderKpiRow ReadOrderRow(Dictionary<string, AttributeValue> item) => new(
        Date(item[OrderDate]),
        Long(item, "total_orders"),
        Decimal(item, "total_revenue"),
        Long(item, "total_items_sold"),
        Double(item, "return_rate"),
        Long(item, "unique_customers"));

    public static Dictionary<string, AttributeValue> CategoryRow(CategoryKpiRow row, long stateVersion, DateTimeOffset now) => new()
    {
        [Category] = new AttributeValue(row.Category),
        [OrderDate] = new AttributeValue(Date(row.OrderDate)),
        ["daily_revenue"] = Number(row.DailyRevenue),
        ["avg_order_value"] = Number(row.AvgOrderValue),
        ["avg_return_rate"] = Number(row.AvgReturnRate),
        [StateVersion] = Number(stateVersion),
        [UpdatedAt] = Timestamp(now),
    };

    public static CategoryKpiRow ReadCategoryRow(Dictionary<string, AttributeValue> item) => new(
        item[Category].S,
        Date(item[OrderDate]),
        Decimal(item, "daily_revenue"),
        Double(item, "avg_order_value"),
        Double(item, "avg_return_rate"));

    /// <summary>A row that no longer has data; it keeps its key and version so that no older computation can bring it back.</summary>
    public static Dictionary<string, AttributeValue> RemovedRow(Dictionary<string, AttributeValue> key, long stateVersion, DateTimeOffset now) =>
        new(key)
        {
            [Removed] = new AttributeValue { BOOL = true },
            [StateVersion] = Number(stateVersion),
            [UpdatedAt] = Timestamp(now),
        };

    public static bool IsRemoved(Dictionary<string, AttributeValue> item) => item.TryGetValue(Removed, out var removed) && removed.BOOL == true;
}
