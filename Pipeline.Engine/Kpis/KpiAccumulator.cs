using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Pipeline.Engine.Collections;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Kpis;

/// <summary>
/// Running KPI state fed with validated records, one entry per day: order counts, per-category item
/// totals (by category index) and the day's distinct customers. Not thread-safe: each worker owns one
/// and the results are combined with <see cref="Add(KpiAccumulator)"/>, the single merge path
/// (stored partials are merged through <see cref="From"/> too).
/// </summary>
public sealed class KpiAccumulator
{
    private readonly CategoryIndex _categories;
    private readonly IdRangeBudget? _idRanges;
    private readonly Dictionary<int, DayState> _days = [];

    // Every row looks its day up: days within DayWindowLength of the first one seen are also found through an array
    // (an index instead of a hash lookup); the dictionary holds all of them.
    private const int DayWindowLength = 4096;
    private DayState?[] _dayWindow = [];
    private int _dayWindowStart;

    public KpiAccumulator(CategoryIndex categories)
        : this(categories, null)
    {
    }

    public KpiAccumulator()
        : this(new CategoryIndex())
    {
    }

    /// <param name="idRanges">Charged for each range of customer ids a day's set opens (a reader's accumulator).</param>
    internal KpiAccumulator(CategoryIndex categories, IdRangeBudget? idRanges)
    {
        _categories = categories;
        _idRanges = idRanges;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(in OrderFact order)
    {
        DayState day = DayOf(order.OrderDate.DayNumber);
        day.Orders++;
        day.ItemsSold += order.NumOfItem;
        day.ReturnedOrders += order.Status == OrderStatus.Returned ? 1 : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(in EnrichedOrderItem item)
    {
        DayState day = DayOf(item.OrderDate.DayNumber);
        ref CategoryTotals category = ref day.Category(item.Category.Index);
        category.Revenue += item.SalePrice;
        category.Items++;
        category.ReturnedItems += item.Status == OrderStatus.Returned ? 1 : 0;
        day.Customers.Add(item.UserId);
    }

    public void Add(KpiAccumulator other) => Merge(other, takeCustomerSets: false);

    /// <summary>
    /// <see cref="Add(KpiAccumulator)"/> for an accumulator that is dropped afterwards: its customer
    /// sets are taken over where this one has none yet, instead of being copied.
    /// </summary>
    internal void Absorb(KpiAccumulator discarded) => Merge(discarded, takeCustomerSets: true);

    private void Merge(KpiAccumulator other, bool takeCustomerSets)
    {
        bool sameCategories = ReferenceEquals(other._categories, _categories);
        foreach ((int dayNumber, DayState theirs) in other._days)
        {
            DayState mine = DayOf(dayNumber);
            mine.Orders += theirs.Orders;
            mine.ItemsSold += theirs.ItemsSold;
            mine.ReturnedOrders += theirs.ReturnedOrders;
            if (takeCustomerSets && mine.Customers.Count == 0)
            {
                mine.Customers = theirs.Customers;
            }
            else
            {
                mine.Customers.UnionWith(theirs.Customers);
            }

            for (int index = 0; index < theirs.CategoryCount; index++)
            {
                CategoryTotals totals = theirs.Category(index);
                if (totals.Items > 0)
                {
                    int myIndex = sameCategories ? index : _categories.GetOrAdd(other._categories.NameOf(index)).Index;
                    ref CategoryTotals target = ref mine.Category(myIndex);
                    target.Revenue += totals.Revenue;
                    target.Items += totals.Items;
                    target.ReturnedItems += totals.ReturnedItems;
                }
            }
        }
    }

    /// <summary>The accumulator of a stored partial; entries that repeat a key are added up.</summary>
    public static KpiAccumulator From(KpiPartial partial)
    {
        var accumulator = new KpiAccumulator();
        foreach (CategoryDayContribution contribution in partial.CategoryDays)
        {
            int index = accumulator._categories.GetOrAdd(contribution.Category).Index;
            ref CategoryTotals totals = ref accumulator.DayOf(contribution.OrderDate.DayNumber).Category(index);
            totals.Revenue += contribution.Revenue;
            totals.Items += contribution.Items;
            totals.ReturnedItems += contribution.ReturnedItems;
        }

        foreach (DayContribution contribution in partial.Days)
        {
            DayState day = accumulator.DayOf(contribution.OrderDate.DayNumber);
            day.Orders += contribution.Orders;
            day.ItemsSold += contribution.ItemsSold;
            day.ReturnedOrders += contribution.ReturnedOrders;
            if (contribution.CustomerIds is IdSet customers)
            {
                day.Customers.UnionWith(customers);
            }
            else
            {
                foreach (long customer in contribution.CustomerIds)
                {
                    day.Customers.Add(customer);
                }
            }
        }

        return accumulator;
    }

    public KpiPartial ToPartial() => BuildPartial(copyCustomerSets: true);

    /// <summary><see cref="ToPartial"/> for an accumulator that is dropped afterwards: no set is copied.</summary>
    internal KpiPartial DetachPartial() => BuildPartial(copyCustomerSets: false);

    private KpiPartial BuildPartial(bool copyCustomerSets)
    {
        var categoryDays = new List<CategoryDayContribution>();
        var days = new List<DayContribution>();
        foreach ((int dayNumber, DayState day) in _days.OrderBy(entry => entry.Key))
        {
            DateOnly date = DateOnly.FromDayNumber(dayNumber);
            // The set itself (about a bit per id for dense ids), not a list of longs.
            IdSet customers = copyCustomerSets ? day.Customers.Clone() : day.Customers;
            days.Add(new DayContribution(date, day.Orders, day.ItemsSold, day.ReturnedOrders, customers));
            for (int index = 0; index < day.CategoryCount; index++)
            {
                CategoryTotals totals = day.Category(index);
                if (totals.Items > 0)
                {
                    categoryDays.Add(new CategoryDayContribution(_categories.NameOf(index), date, totals.Revenue, totals.Items, totals.ReturnedItems));
                }
            }
        }

        return new KpiPartial(
            [.. categoryDays.OrderBy(day => day.Category, StringComparer.Ordinal).ThenBy(day => day.OrderDate)],
            days);
    }

    private DayState DayOf(int dayNumber)
    {
        uint slot = (uint)(dayNumber - _dayWindowStart);
        return slot < (uint)_dayWindow.Length && _dayWindow[slot] is { } day ? day : FindOrAddDay(dayNumber);
    }

    /// <summary>The day from the dictionary (added when new), put in the window when it falls there.</summary>
    private DayState FindOrAddDay(int dayNumber)
    {
        ref DayState? entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_days, dayNumber, out _);
        DayState day = entry ??= new DayState { Customers = _idRanges?.NewSet(dayNumber) ?? new IdSet() };
        if (_dayWindow.Length == 0)
        {
            _dayWindow = new DayState?[DayWindowLength];
            _dayWindowStart = dayNumber - (DayWindowLength / 2);
        }

        uint slot = (uint)(dayNumber - _dayWindowStart);
        if (slot < (uint)_dayWindow.Length)
        {
            _dayWindow[slot] = day;
        }

        return day;
    }

    private record struct CategoryTotals(decimal Revenue, long Items, long ReturnedItems);

    private sealed class DayState
    {
        private CategoryTotals[] _categories = [];

        public long Orders { get; set; }

        public long ItemsSold { get; set; }

        public long ReturnedOrders { get; set; }

        public required IdSet Customers { get; set; }

        public int CategoryCount => _categories.Length;

        public ref CategoryTotals Category(int index)
        {
            if (index >= _categories.Length)
            {
                Array.Resize(ref _categories, index + 1);
            }

            return ref _categories[index];
        }
    }
}
