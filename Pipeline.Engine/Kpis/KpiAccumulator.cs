using System.Runtime.InteropServices;
using Pipeline.Engine.Collections;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Kpis;

/// <summary>
/// Running KPI state fed with validated records. Not thread-safe: each worker owns one and the
/// results are combined with <see cref="Add(KpiAccumulator)"/>, the single merge path (partials
/// from storage are merged through <see cref="From"/> too).
/// </summary>
public sealed class KpiAccumulator(CategoryIndex categories)
{
    private readonly CategoryIndex _categories = categories;
    private readonly Dictionary<(int Category, int Day), CategoryDayTotals> _categoryDays = [];
    private readonly Dictionary<int, DayTotals> _days = [];
    private readonly Dictionary<int, IdSet> _customersByDay = [];

    public KpiAccumulator()
        : this(new CategoryIndex())
    {
    }

    public void Add(in OrderFact order)
    {
        ref DayTotals day = ref CollectionsMarshal.GetValueRefOrAddDefault(_days, order.OrderDate.DayNumber, out _);
        day.Orders++;
        day.ItemsSold += order.NumOfItem;
        if (order.Status == OrderStatus.Returned)
        {
            day.ReturnedOrders++;
        }
    }

    public void Add(in EnrichedOrderItem item)
    {
        int dayNumber = item.OrderDate.DayNumber;
        bool returned = item.Status == OrderStatus.Returned;
        ref CategoryDayTotals categoryDay = ref CollectionsMarshal.GetValueRefOrAddDefault(
            _categoryDays, (item.Category.Index, dayNumber), out _);
        categoryDay.Revenue += item.SalePrice;
        categoryDay.Items++;
        categoryDay.ReturnedItems += returned ? 1 : 0;

        ref DayTotals day = ref CollectionsMarshal.GetValueRefOrAddDefault(_days, dayNumber, out _);
        day.ItemRevenue += item.SalePrice;
        CustomersOf(dayNumber).Add(item.UserId);
    }

    public void Add(KpiAccumulator other)
    {
        bool sameCategories = ReferenceEquals(other._categories, _categories);
        foreach (((int category, int day), CategoryDayTotals totals) in other._categoryDays)
        {
            int index = sameCategories ? category : _categories.GetOrAdd(other._categories.NameOf(category)).Index;
            ref CategoryDayTotals mine = ref CollectionsMarshal.GetValueRefOrAddDefault(_categoryDays, (index, day), out _);
            mine.Revenue += totals.Revenue;
            mine.Items += totals.Items;
            mine.ReturnedItems += totals.ReturnedItems;
        }

        foreach ((int dayNumber, DayTotals totals) in other._days)
        {
            ref DayTotals mine = ref CollectionsMarshal.GetValueRefOrAddDefault(_days, dayNumber, out _);
            mine.Orders += totals.Orders;
            mine.ItemsSold += totals.ItemsSold;
            mine.ReturnedOrders += totals.ReturnedOrders;
            mine.ItemRevenue += totals.ItemRevenue;
        }

        foreach ((int dayNumber, IdSet customers) in other._customersByDay)
        {
            CustomersOf(dayNumber).UnionWith(customers);
        }
    }

    public static KpiAccumulator From(KpiPartial partial)
    {
        var accumulator = new KpiAccumulator();
        foreach (CategoryDayContribution contribution in partial.CategoryDays)
        {
            int index = accumulator._categories.GetOrAdd(contribution.Category).Index;
            accumulator._categoryDays[(index, contribution.OrderDate.DayNumber)] =
                new CategoryDayTotals(contribution.Revenue, contribution.Items, contribution.ReturnedItems);
        }

        foreach (DayContribution contribution in partial.Days)
        {
            int dayNumber = contribution.OrderDate.DayNumber;
            accumulator._days[dayNumber] = new DayTotals(
                contribution.Orders, contribution.ItemsSold, contribution.ReturnedOrders, contribution.ItemRevenue);
            IdSet customers = accumulator.CustomersOf(dayNumber);
            foreach (long customer in contribution.CustomerIds)
            {
                customers.Add(customer);
            }
        }

        return accumulator;
    }

    public KpiPartial ToPartial()
    {
        CategoryDayContribution[] categoryDays = _categoryDays
            .Select(entry => new CategoryDayContribution(
                _categories.NameOf(entry.Key.Category),
                DateOnly.FromDayNumber(entry.Key.Day),
                entry.Value.Revenue,
                entry.Value.Items,
                entry.Value.ReturnedItems))
            .OrderBy(contribution => contribution.Category, StringComparer.Ordinal)
            .ThenBy(contribution => contribution.OrderDate)
            .ToArray();

        DayContribution[] days = _days
            .OrderBy(entry => entry.Key)
            .Select(entry => new DayContribution(
                DateOnly.FromDayNumber(entry.Key),
                entry.Value.Orders,
                entry.Value.ItemsSold,
                entry.Value.ReturnedOrders,
                entry.Value.ItemRevenue,
                _customersByDay.TryGetValue(entry.Key, out IdSet? customers) ? customers.Ordered().ToArray() : []))
            .ToArray();

        return new KpiPartial(categoryDays, days);
    }

    private IdSet CustomersOf(int dayNumber)
    {
        ref IdSet? customers = ref CollectionsMarshal.GetValueRefOrAddDefault(_customersByDay, dayNumber, out _);
        return customers ??= new IdSet();
    }

    private record struct CategoryDayTotals(decimal Revenue, long Items, long ReturnedItems);

    private record struct DayTotals(long Orders, long ItemsSold, long ReturnedOrders, decimal ItemRevenue);
}
