using System.Globalization;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.Kpis;

namespace Pipeline.Storage.Kpis;

/// <summary>How KPI data is laid out in DynamoDB items. KPI attributes are named exactly like the KPI fields.</summary>
internal static class KpiItems
{
    public const string OrderDate = "order_date";
    public const string Category = "category";
    public const string ContributionId = "contribution_id";
    public const string Customers = "customers";

    /// <summary>How many contribution items a KPI row was computed from; rows only ever move forward.</summary>
    public const string ContributionCount = "contribution_count";
    public const string UpdatedAt = "updated_at";

    private static AttributeValue Timestamp(DateTimeOffset at) => new(at.ToString("O", CultureInfo.InvariantCulture));

    public static string Date(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly Date(AttributeValue value) => DateOnly.ParseExact(value.S, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static AttributeValue Number(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    public static AttributeValue Number(decimal value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    /// <summary>Round-trip precision, so that a stored rate reads back as the same double.</summary>
    public static AttributeValue Number(double value) => new() { N = value.ToString("R", CultureInfo.InvariantCulture) };

    public static long Long(Dictionary<string, AttributeValue> item, string name) => long.Parse(item[name].N, CultureInfo.InvariantCulture);

    public static decimal Decimal(Dictionary<string, AttributeValue> item, string name) => decimal.Parse(item[name].N, NumberStyles.Float, CultureInfo.InvariantCulture);

    public static double Double(Dictionary<string, AttributeValue> item, string name) => double.Parse(item[name].N, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>
    /// One batch's contribution to one day, as items: the first holds the order counts, the per-category item sums and
    /// the first chunk of the day's customers; further items (<c>{batch}#customers#{n}</c>) hold the other chunks.
    /// Their content depends on the batch alone, so writing them again changes nothing.
    /// </summary>
    public static IEnumerable<Dictionary<string, AttributeValue>> Contribution(string batchId, DateOnly day, KpiPartial slice, int customersPerItem, DateTimeOffset now)
    {
        var orders = slice.Days.SingleOrDefault();
        var chunks = (orders?.CustomerIds ?? []).Chunk(customersPerItem).ToList();
        var first = new Dictionary<string, AttributeValue>
        {
            [OrderDate] = new AttributeValue(Date(day)),
            [ContributionId] = new AttributeValue(batchId),
            ["orders"] = Number(orders?.Orders ?? 0),
            ["items_sold"] = Number(orders?.ItemsSold ?? 0),
            ["returned_orders"] = Number(orders?.ReturnedOrders ?? 0),
            ["categories"] = new AttributeValue
            {
                M = slice.CategoryDays.ToDictionary(c => c.Category, c => new AttributeValue
                {
                    M = new()
                    {
                        ["revenue"] = Number(c.Revenue),
                        ["items"] = Number(c.Items),
                        ["returned_items"] = Number(c.ReturnedItems),
                    },
                }),
            },
            [UpdatedAt] = Timestamp(now),
        };
        if (chunks.Count > 0)
        {
            first[Customers] = CustomerSet(chunks[0]);
        }
        yield return first;

        for (var n = 1; n < chunks.Count; n++)
        {
            yield return new()
            {
                [OrderDate] = new AttributeValue(Date(day)),
                [ContributionId] = new AttributeValue($"{batchId}#customers#{n}"),
                [Customers] = CustomerSet(chunks[n]),
            };
        }
    }

    /// <summary>Reads a contribution item back: its sums and counts (none for a customers-only item) and its customers.</summary>
    public static (KpiPartial Totals, IEnumerable<long> Customers) ReadContribution(Dictionary<string, AttributeValue> item)
    {
        var day = Date(item[OrderDate]);
        List<string> customers = item.TryGetValue(Customers, out var set) && set.NS is { } ids ? ids : [];
        var customerIds = customers.Select(id => long.Parse(id, CultureInfo.InvariantCulture));
        if (!item.ContainsKey("orders"))
        {
            return (KpiPartial.Empty, customerIds);
        }
        var categories = (item.TryGetValue("categories", out var map) ? map.M : null) ?? [];
        var totals = new KpiPartial(
            categories.Select(c => new CategoryDayContribution(
                c.Key, day, Decimal(c.Value.M, "revenue"), Long(c.Value.M, "items"), Long(c.Value.M, "returned_items"))).ToList(),
            [new DayContribution(day, Long(item, "orders"), Long(item, "items_sold"), Long(item, "returned_orders"), [])]);
        return (totals, customerIds);
    }

    private static AttributeValue CustomerSet(IEnumerable<long> ids) =>
        new() { NS = ids.Select(id => id.ToString(CultureInfo.InvariantCulture)).ToList() };

    public static Dictionary<string, AttributeValue> OrderRow(OrderKpiRow row, int contributions, DateTimeOffset now) => new()
    {
        [OrderDate] = new AttributeValue(Date(row.OrderDate)),
        ["total_orders"] = Number(row.TotalOrders),
        ["total_revenue"] = Number(row.TotalRevenue),
        ["total_items_sold"] = Number(row.TotalItemsSold),
        ["return_rate"] = Number(row.ReturnRate),
        ["unique_customers"] = Number(row.UniqueCustomers),
        [ContributionCount] = Number(contributions),
        [UpdatedAt] = Timestamp(now),
    };

    public static OrderKpiRow ReadOrderRow(Dictionary<string, AttributeValue> item) => new(
        Date(item[OrderDate]),
        Long(item, "total_orders"),
        Decimal(item, "total_revenue"),
        Long(item, "total_items_sold"),
        Double(item, "return_rate"),
        Long(item, "unique_customers"));

    public static Dictionary<string, AttributeValue> CategoryRow(CategoryKpiRow row, int contributions, DateTimeOffset now) => new()
    {
        [Category] = new AttributeValue(row.Category),
        [OrderDate] = new AttributeValue(Date(row.OrderDate)),
        ["daily_revenue"] = Number(row.DailyRevenue),
        ["avg_order_value"] = Number(row.AvgOrderValue),
        ["avg_return_rate"] = Number(row.AvgReturnRate),
        [ContributionCount] = Number(contributions),
        [UpdatedAt] = Timestamp(now),
    };

    public static CategoryKpiRow ReadCategoryRow(Dictionary<string, AttributeValue> item) => new(
        item[Category].S,
        Date(item[OrderDate]),
        Decimal(item, "daily_revenue"),
        Double(item, "avg_order_value"),
        Double(item, "avg_return_rate"));
}
