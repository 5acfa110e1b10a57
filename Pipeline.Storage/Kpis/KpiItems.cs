using System.Globalization;
using System.Security.Cryptography;
using System.Text;
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

    /// <summary>
    /// Of a day-state item: the version of each batch folded into it (batch name to version); kept small by the slots
    /// (<see cref="KpiStateLimits"/>).
    /// </summary>
    public const string Applied = "applied";

    public const string StateVersion = "state_version";

    /// <summary>A KPI row whose day or category no longer has data (every batch that had it was replaced or retracted).</summary>
    public const string Removed = "removed";

    public const string UpdatedAt = "updated_at";
    public const string DistinctCustomers = "distinct_customers";
    public const string Counts = "counts";
    public const string Ids = "ids";

    /// <summary>Of a slot item: the customer page whose counts it holds itself (set once, by the first fold that brings customers to the slot).</summary>
    public const string Page = "page";

    /// <summary>Of a slot item: the slot's other customer pages, each an item of its own, listed before that item is first written.</summary>
    public const string Pages = "pages";

    /// <summary>Of a slot item that takes no new batches (it is full): how many child slots take them instead.</summary>
    public const string Fanout = "fanout";

    // The sums and counts of a day (a contribution's day item, a slot item of the day's state), and of each category in it.
    public const string Orders = "orders";
    public const string ItemsSold = "items_sold";
    public const string ReturnedOrders = "returned_orders";
    public const string Categories = "categories";
    public const string Revenue = "revenue";
    public const string Items = "items";
    public const string ReturnedItems = "returned_items";

    // Of a version's summary: the customer pages of each day it has, and whether it is a retraction.
    public const string SummaryDays = "days";
    public const string Retraction = "retraction";

    // The KPI rows' own attributes, named like the fields of OrderKpiRow and CategoryKpiRow.
    public const string TotalOrders = "total_orders";
    public const string TotalRevenue = "total_revenue";
    public const string TotalItemsSold = "total_items_sold";
    public const string ReturnRate = "return_rate";
    public const string UniqueCustomers = "unique_customers";
    public const string DailyRevenue = "daily_revenue";

    /// <summary>On an order KPI row: each category's daily_revenue of the day (the anomaly check reads them with the row).</summary>
    public const string CategoryRevenue = "category_revenue";
    public const string AvgOrderValue = "avg_order_value";
    public const string AvgReturnRate = "avg_return_rate";

    // Parts: of a contribution (summary, day, customer page of a day) and of a day's state (totals, customer counts of a page).
    public const string SummaryPrefix = "s#";
    public const string DayPrefix = "d#";
    public const string CustomersPrefix = "c#";
    public const string TotalsPart = "totals";
    public const string CustomerCountsPrefix = "customers#";

    public static string Date(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly Date(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly Date(AttributeValue value) => Date(value.S);

    /// <summary>The days a contribution summary names (the keys of its <see cref="SummaryDays"/> map); null when it has no such map.</summary>
    public static IEnumerable<DateOnly>? DaysOfSummary(Dictionary<string, AttributeValue> summary) =>
        summary.GetValueOrDefault(SummaryDays)?.M?.Keys.Select(Date);

    public static AttributeValue Timestamp(DateTimeOffset at) => new(at.ToString("O", CultureInfo.InvariantCulture));

    public static AttributeValue Number(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    public static AttributeValue Number(decimal value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    /// <summary>Round-trip precision, so that a stored rate reads back as the same double.</summary>
    public static AttributeValue Number(double value) => new() { N = value.ToString("R", CultureInfo.InvariantCulture) };

    public static long Long(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) && value.N is { } n ? long.Parse(n, CultureInfo.InvariantCulture) : 0;

    public static decimal Decimal(Dictionary<string, AttributeValue> item, string name) =>
        decimal.Parse(item[name].N, NumberStyles.Float, CultureInfo.InvariantCulture);

    public static double Double(Dictionary<string, AttributeValue> item, string name) =>
        double.Parse(item[name].N, NumberStyles.Float, CultureInfo.InvariantCulture);

    // Contributions (pipeline-kpi-contributions, key batch_id + part): per version of a batch, what it brings.

    public static string SummaryPart(int version) => $"{SummaryPrefix}{version:D6}";

    public static string DayPart(int version, DateOnly day) => $"{DayPrefix}{version:D6}#{Date(day)}";

    public static string CustomersPart(int version, DateOnly day, long page) => $"{CustomersPrefix}{version:D6}#{Date(day)}#{page:D10}";

    public static int VersionOfSummary(string part) => int.Parse(part[SummaryPrefix.Length..], CultureInfo.InvariantCulture);

    public static Dictionary<string, AttributeValue> ContributionKey(string batchId, string part) => new()
    {
        [BatchId] = new AttributeValue(batchId),
        [Part] = new AttributeValue(part),
    };

    // Day state (pipeline-kpi-days, key order_date + part): per slot (the root "", its children "3", theirs "3.12"...) a slot item
    // "totals" / "totals@<slot>" (the sums and counts of its batches, one customer page, the list of the others) and
    // "customers#<page>" / "customers#<slot>#<page>" for each of the others.

    public static string SlotPart(string slot) => slot.Length == 0 ? TotalsPart : $"{TotalsPart}@{slot}";

    public static string CustomerCountsPart(string slot, long page) =>
        slot.Length == 0 ? $"{CustomerCountsPrefix}{page:D10}" : $"{CustomerCountsPrefix}{slot}#{page:D10}";

    /// <summary>The <paramref name="index"/>th child of a full slot.</summary>
    public static string ChildSlot(string slot, int index) => slot.Length == 0 ? $"{index}" : $"{slot}.{index}";

    /// <summary>
    /// The child of a full slot that takes the batch: a byte of the SHA-256 of its name (one byte per depth, so a child
    /// that fills up spreads its batches again) modulo the slot's fanout. Stable across processes and versions.
    /// </summary>
    public static string ChildSlot(string slot, string batchId, int fanout)
    {
        var depth = slot.Length == 0 ? 0 : slot.Count(c => c == '.') + 1;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(batchId));
        return ChildSlot(slot, hash[depth % hash.Length] % fanout);
    }

    /// <summary>How many child slots a full slot item has (0: not full).</summary>
    public static int FanoutOf(Dictionary<string, AttributeValue>? slotItem) => (int)Long(slotItem ?? [], Fanout);

    public static Dictionary<string, AttributeValue> DayKey(DateOnly day, string part) => new()
    {
        [OrderDate] = new AttributeValue(Date(day)),
        [Part] = new AttributeValue(part),
    };

    /// <summary>The sums and counts of a day (a contribution's, or the folded state's), under the same attribute names in both tables.</summary>
    public static void WriteTotals(Dictionary<string, AttributeValue> item, DayTotals totals)
    {
        item[Orders] = Number(totals.Orders);
        item[ItemsSold] = Number(totals.ItemsSold);
        item[ReturnedOrders] = Number(totals.ReturnedOrders);
        item[Categories] = new AttributeValue
        {
            M = totals.Categories.ToDictionary(c => c.Key, c => new AttributeValue
            {
                M = new()
                {
                    [Revenue] = Number(c.Value.Revenue),
                    [Items] = Number(c.Value.Items),
                    [ReturnedItems] = Number(c.Value.ReturnedItems),
                },
            }),
            IsMSet = true,
        };
    }

    public static DayTotals ReadTotals(Dictionary<string, AttributeValue>? item)
    {
        if (item is null || !item.ContainsKey(Orders))
        {
            return DayTotals.Empty;
        }
        var categories = (item.TryGetValue(Categories, out var map) ? map.M : null) ?? [];
        return new DayTotals(Long(item, Orders), Long(item, ItemsSold), Long(item, ReturnedOrders),
            categories.ToDictionary(c => c.Key, c => new CategorySums(Decimal(c.Value.M, Revenue), Long(c.Value.M, Items), Long(c.Value.M, ReturnedItems)),
                StringComparer.Ordinal));
    }

    /// <summary>The customer page a slot item holds itself, if one is set.</summary>
    public static long? EmbeddedPage(Dictionary<string, AttributeValue>? dayItem) =>
        dayItem is not null && dayItem.TryGetValue(Page, out var page) && page.N is { } n ? long.Parse(n, CultureInfo.InvariantCulture) : null;

    /// <summary>The slot's customer pages that are items of their own, as its slot item lists them.</summary>
    public static SortedSet<long> ListedPages(Dictionary<string, AttributeValue>? dayItem) =>
        new((dayItem is not null && dayItem.TryGetValue(Pages, out var pages) ? pages.L : null)?
            .Select(p => long.Parse(p.N, CultureInfo.InvariantCulture)) ?? []);

    public static AttributeValue PageList(IEnumerable<long> pages) => new() { L = pages.Select(Number).ToList(), IsLSet = true };

    public static Dictionary<string, int> ReadApplied(Dictionary<string, AttributeValue>? item) =>
        (item is not null && item.TryGetValue(Applied, out var map) ? map.M : null)?
            .ToDictionary(a => a.Key, a => int.Parse(a.Value.N, CultureInfo.InvariantCulture)) ?? [];

    public static AttributeValue AppliedMap(Dictionary<string, int> applied) =>
        new() { M = applied.ToDictionary(a => a.Key, a => Number(a.Value)), IsMSet = true };

    public static AttributeValue Binary(byte[] bytes) => new() { B = new MemoryStream(bytes, writable: false) };

    public static byte[]? BytesOf(Dictionary<string, AttributeValue>? item, string name) =>
        item is not null && item.TryGetValue(name, out var value) && value.B is { } stream ? stream.ToArray() : null;

    // KPI rows.

    public static readonly string[] OrderRowAttributes = [OrderDate, TotalOrders, TotalRevenue, TotalItemsSold, ReturnRate, UniqueCustomers];

    public static readonly string[] CategoryRowAttributes = [Category, OrderDate, DailyRevenue, AvgOrderValue, AvgReturnRate];

    /// <summary>The order row, with the daily revenue of each of the day's <paramref name="categories"/> (rows of the same state).</summary>
    public static Dictionary<string, AttributeValue> OrderRow(OrderKpiRow row, IEnumerable<CategoryKpiRow> categories, long stateVersion,
        DateTimeOffset now) => new()
        {
            [OrderDate] = new AttributeValue(Date(row.OrderDate)),
            [TotalOrders] = Number(row.TotalOrders),
            [TotalRevenue] = Number(row.TotalRevenue),
            [TotalItemsSold] = Number(row.TotalItemsSold),
            [ReturnRate] = Number(row.ReturnRate),
            [UniqueCustomers] = Number(row.UniqueCustomers),
            [CategoryRevenue] = new AttributeValue { M = categories.ToDictionary(c => c.Category, c => Number(c.DailyRevenue)), IsMSet = true },
            [StateVersion] = Number(stateVersion),
            [UpdatedAt] = Timestamp(now),
        };

    public static OrderKpiRow ReadOrderRow(Dictionary<string, AttributeValue> item) => new(
        Date(item[OrderDate]),
        Long(item, TotalOrders),
        Decimal(item, TotalRevenue),
        Long(item, TotalItemsSold),
        Double(item, ReturnRate),
        Long(item, UniqueCustomers));

    /// <summary>The daily revenue of each category, from an order row written with them (exact decimals).</summary>
    public static IEnumerable<(string Category, decimal DailyRevenue)> ReadCategoryRevenue(Dictionary<string, AttributeValue> orderRow) =>
        orderRow.TryGetValue(CategoryRevenue, out var map) && map.M is { } revenues
            ? revenues.Select(r => (r.Key, Decimal(revenues, r.Key)))
            : [];

    public static Dictionary<string, AttributeValue> CategoryRow(CategoryKpiRow row, long stateVersion, DateTimeOffset now) => new()
    {
        [Category] = new AttributeValue(row.Category),
        [OrderDate] = new AttributeValue(Date(row.OrderDate)),
        [DailyRevenue] = Number(row.DailyRevenue),
        [AvgOrderValue] = Number(row.AvgOrderValue),
        [AvgReturnRate] = Number(row.AvgReturnRate),
        [StateVersion] = Number(stateVersion),
        [UpdatedAt] = Timestamp(now),
    };

    public static CategoryKpiRow ReadCategoryRow(Dictionary<string, AttributeValue> item) => new(
        item[Category].S,
        Date(item[OrderDate]),
        Decimal(item, DailyRevenue),
        Double(item, AvgOrderValue),
        Double(item, AvgReturnRate));

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
