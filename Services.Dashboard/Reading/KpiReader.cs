using Pipeline.Engine.Kpis;
using Pipeline.Storage.Kpis;
using Services.Dashboard.Live;

namespace Services.Dashboard.Reading;

/// <summary>The KPIs of a range, daily and per category.</summary>
public sealed record DailyKpis(DateOnly From, DateOnly To, IReadOnlyList<OrderKpiRow> Rows);

/// <param name="Category">The category asked for; null for all of them.</param>
public sealed record CategoryKpis(DateOnly From, DateOnly To, string? Category, IReadOnlyList<CategoryKpiRow> Rows);

/// <summary>
/// Reads KPIs through the store the CLI uses. The days that have data (for the default range) and the categories are
/// remembered until the next alert, since only a finished batch changes them.
/// </summary>
public sealed class KpiReader
{
    private readonly DynamoKpiStore _store;
    private readonly TimeProvider _clock;
    private Task<IReadOnlyList<DateOnly>>? _daysWithData;
    private Task<IReadOnlyList<string>>? _categories;

    public KpiReader(DynamoKpiStore store, PipelineChanges changes, TimeProvider clock)
    {
        _store = store;
        _clock = clock;
        changes.AlertReceived += _ => (_daysWithData, _categories) = (null, null);
    }

    /// <summary>
    /// The range to read: as asked; with one end given, <see cref="KpiRequest.DefaultDays"/> days from it; with none,
    /// from the 31st-latest day that has data to the latest (the last 31 days before today when nothing has data).
    /// </summary>
    public async Task<KpiRange> ResolveAsync(KpiRequest request, CancellationToken cancellationToken)
    {
        var window = KpiRequest.DefaultDays - 1;
        switch (request)
        {
            case { From: { } from, To: { } to }:
                return new KpiRange(from, to, Defaulted: false);
            case { From: { } from }:
                return new KpiRange(from, from.AddDays(window), Defaulted: false);
            case { To: { } to }:
                return new KpiRange(to.AddDays(-window), to, Defaulted: false);
        }
        var days = await (_daysWithData ??= _store.ListDaysAsync(CancellationToken.None)).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (days.Count == 0)
        {
            var today = DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime);
            return new KpiRange(today.AddDays(-window), today, Defaulted: true);
        }
        return new KpiRange(days[Math.Max(0, days.Count - KpiRequest.DefaultDays)], days[^1], Defaulted: true);
    }

    public async Task<DailyKpis> DailyAsync(KpiRange range, CancellationToken cancellationToken) =>
        new(range.From, range.To, await _store.GetDaysAsync(range.From, range.To, cancellationToken).ConfigureAwait(false));

    /// <summary>One category's rows, or every category's: one Query per category.</summary>
    public async Task<CategoryKpis> CategoriesAsync(KpiRange range, string? category, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> categories = category is null
            ? await (_categories ??= _store.ListCategoriesAsync(CancellationToken.None)).WaitAsync(cancellationToken).ConfigureAwait(false)
            : [category];
        return new(range.From, range.To, category, await _store.GetCategoriesAsync(categories, range.From, range.To, cancellationToken).ConfigureAwait(false));
    }
}
