namespace Pipeline.Engine.Kpis;

/// <summary>The exact item sums of one category on one day.</summary>
public readonly record struct CategorySums(decimal Revenue, long Items, long ReturnedItems)
{
    public CategorySums Plus(CategorySums other) => new(Revenue + other.Revenue, Items + other.Items, ReturnedItems + other.ReturnedItems);

    public CategorySums Minus(CategorySums other) => new(Revenue - other.Revenue, Items - other.Items, ReturnedItems - other.ReturnedItems);
}

/// <summary>
/// The exact sums and counts of one day, without its customers: the part of a day's KPI state that can be added
/// and taken away again exactly (a batch folded in, a replaced batch taken out). Distinct customers are not
/// additive; they are counted separately (see <see cref="KpiCalculator.OrderRow"/>).
/// </summary>
public sealed record DayTotals(long Orders, long ItemsSold, long ReturnedOrders, IReadOnlyDictionary<string, CategorySums> Categories)
{
    public static DayTotals Empty { get; } = new(0, 0, 0, new Dictionary<string, CategorySums>());

    /// <summary>A partial's totals, one per day it touches (by an order's or an item's own date).</summary>
    public static IReadOnlyDictionary<DateOnly, DayTotals> ByDay(KpiPartial partial)
    {
        var days = new Dictionary<DateOnly, DayTotals>();
        foreach (var day in partial.Days)
        {
            var totals = new DayTotals(day.Orders, day.ItemsSold, day.ReturnedOrders, Empty.Categories);
            days[day.OrderDate] = days.GetValueOrDefault(day.OrderDate, Empty).Plus(totals);
        }
        foreach (var category in partial.CategoryDays)
        {
            var sums = new Dictionary<string, CategorySums> { [category.Category] = new(category.Revenue, category.Items, category.ReturnedItems) };
            days[category.OrderDate] = days.GetValueOrDefault(category.OrderDate, Empty).Plus(new DayTotals(0, 0, 0, sums));
        }
        return days;
    }

    public DayTotals Plus(DayTotals other) => Combine(other, (a, b) => a + b, (a, b) => a.Plus(b));

    /// <summary>Takes away what <paramref name="other"/> added; a result below zero means it was never added, a bug.</summary>
    public DayTotals Minus(DayTotals other)
    {
        var result = Combine(other, (a, b) => a - b, (a, b) => a.Minus(b));
        if (result.Orders < 0 || result.ItemsSold < 0 || result.ReturnedOrders < 0
            || result.Categories.Values.Any(c => c.Items < 0 || c.ReturnedItems < 0 || c.Revenue < 0))
        {
            throw new InvalidOperationException("Taking a contribution away would leave negative day totals: it was never added.");
        }
        return result;
    }

    /// <summary>
    /// The day's KPI rows, as the engine gives them for the same data: an order row when the day has orders or
    /// customers (any order or item), a category row per category with items.
    /// </summary>
    public (OrderKpiRow? Order, IReadOnlyList<CategoryKpiRow> Categories) Rows(DateOnly day, long uniqueCustomers)
    {
        var categories = Categories.Where(c => c.Value.Items > 0).OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => KpiCalculator.CategoryRow(c.Key, day, c.Value.Revenue, c.Value.Items, c.Value.ReturnedItems)).ToList();
        var revenue = Categories.Values.Sum(c => c.Revenue);
        var order = Orders > 0 || uniqueCustomers > 0
            ? KpiCalculator.OrderRow(day, Orders, revenue, ItemsSold, ReturnedOrders, uniqueCustomers)
            : null;
        return (order, categories);
    }

    private DayTotals Combine(DayTotals other, Func<long, long, long> count, Func<CategorySums, CategorySums, CategorySums> sums)
    {
        var categories = new Dictionary<string, CategorySums>(Categories, StringComparer.Ordinal);
        foreach (var (name, theirs) in other.Categories)
        {
            categories[name] = sums(categories.GetValueOrDefault(name), theirs);
        }
        return new DayTotals(count(Orders, other.Orders), count(ItemsSold, other.ItemsSold), count(ReturnedOrders, other.ReturnedOrders), categories);
    }
}
