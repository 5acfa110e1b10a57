using Pipeline.Engine.Kpis;
using Pipeline.Storage.Kpis;
using Services.Dashboard.Live;

namespace Services.Dashboard.Reading;

/// <summary>The KPIs of a range, daily and per category.</summary>
public sealed record DailyKpis(DateOnly From, DateOnly To, IReadOnlyList<OrderKpiRow> Rows);

/// <param name="Category">The category asked for; null for all of them.</param>
public sealed record CategoryKpis(DateOnly From, DateOnly To, string? Category, IReadOnlyList<CategoryKpiRow> Rows);

/// <summary>
/// Reads KPIs through the queries the CLI uses. The days that have data (for the default range) and the categories are
/// remembered until the next alert, since only a finished batch changes them; a read that failed is not remembered.
/// </summary>
public sealed class KpiReader
{
    private readonly KpiQueries _queries;
    private readonly TimeProvider _clock;
    private readonly SharedRead<IReadOnlyList<DateOnly>> _daysWithData;
    private readonly SharedRead<IReadOnlyList<string>> _categories;

    public KpiReader(KpiQueries queries, PipelineChanges changes, TimeProvider clock)
    {
        _queries = queries;
        _clock = clock;
        _daysWithData = new(() => _queries.ListDaysAsync(CancellationToken.None), clock);
        _categories = new(() => _queries.ListCategoriesAsync(CancellationToken.None), clock);
        changes.AlertReceived += _ =>
        {
            _daysWithData.Forget();
            _categories.Forget();
        };
    }

    /// <summary>
    /// The range to read: as asked (<see cref="KpiRequest.AskedRange"/>); with no end given, from the 31st-latest day that
    /// has data to the latest, but not more than <see cref="KpiRequest.MaxDays"/> days (the last 31 days before today when
    /// nothing has data).
    /// </summary>
    public async Task<KpiRange> ResolveAsync(KpiRequest request, CancellationToken cancellationToken)
    {
        if (request.AskedRange() is { } asked)
        {
            return asked;
        }
        var days = await _daysWithData.GetAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        if (days.Count == 0)
        {
            var today = DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime);
            return new KpiRange(KpiRequest.AddDays(today, -(KpiRequest.DefaultDays - 1)), today, Defaulted: true);
        }
        var first = days[Math.Max(0, days.Count - KpiRequest.DefaultDays)];
        var earliest = KpiRequest.AddDays(days[^1], -(KpiRequest.MaxDays - 1));
        return new KpiRange(first > earliest ? first : earliest, days[^1], Defaulted: true);
    }

    public async Task<DailyKpis> DailyAsync(KpiRange range, CancellationToken cancellationToken) =>
        new(range.From, range.To, await _queries.GetDaysAsync(range.From, range.To, cancellationToken).ConfigureAwait(false));

    /// <summary>One category's rows, or every category's: one Query per category.</summary>
    public async Task<CategoryKpis> CategoriesAsync(KpiRange range, string? category, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> categories = category is null
            ? await _categories.GetAsync().WaitAsync(cancellationToken).ConfigureAwait(false)
            : [category];
        var rows = await _queries.GetCategoriesAsync(categories, range.From, range.To, cancellationToken).ConfigureAwait(false);
        return new(range.From, range.To, category, rows);
    }
}
