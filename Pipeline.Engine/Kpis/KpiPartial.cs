namespace Pipeline.Engine.Kpis;

/// <summary>
/// The exact, mergeable KPI state of one or more batches: sums, counts and distinct-customer sets,
/// never averages. Storing one per batch and merging them gives the KPIs of all the batches together
/// (<see cref="Merge"/> of A and B equals the partial of A∪B). Plain data: serialize it with
/// <see cref="KpiPartialJson"/>. Lists are sorted, so equal states serialize identically.
/// </summary>
public sealed record KpiPartial(IReadOnlyList<CategoryDayContribution> CategoryDays, IReadOnlyList<DayContribution> Days)
{
    public static KpiPartial Empty { get; } = new([], []);

    public static KpiPartial Merge(params IEnumerable<KpiPartial> partials)
    {
        var merged = new KpiAccumulator();
        foreach (KpiPartial partial in partials)
        {
            merged.Add(KpiAccumulator.From(partial));
        }

        return merged.ToPartial();
    }
}

/// <summary>Order items of one category on one day (by the item's created_at).</summary>
public sealed record CategoryDayContribution(string Category, DateOnly OrderDate, decimal Revenue, long Items, long ReturnedItems);

/// <summary>
/// One day: orders counted by their own created_at; <see cref="CustomerIds"/> are the distinct user ids
/// of the items created that day, ascending. The day's item revenue is the sum of its category days.
/// </summary>
public sealed record DayContribution(DateOnly OrderDate, long Orders, long ItemsSold, long ReturnedOrders, IReadOnlyCollection<long> CustomerIds);
