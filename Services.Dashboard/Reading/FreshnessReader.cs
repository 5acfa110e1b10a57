using Pipeline.Engine.DataQuality;
using Pipeline.Storage.DataQuality;

namespace Services.Dashboard.Reading;

/// <summary>A day's freshness as the API gives it (docs/data-quality.md).</summary>
/// <param name="Status"><c>on_time</c>, <c>late</c> (no accepted batch by the deadline) or <c>recovered</c> (one came after).</param>
/// <param name="NoticedAt">When the check found the day in this status (the check's clock).</param>
/// <param name="LateNoticedAt">When it found the day late, for a late or recovered day.</param>
public sealed record FreshnessDay(DateOnly Day, string Status, DateTimeOffset Deadline, DateTimeOffset NoticedAt, DateTimeOffset? LateNoticedAt)
{
    public static FreshnessDay Of(DayFreshness day) =>
        new(day.Day, FreshnessStore.Status(day.Status), day.Deadline, day.NoticedAt, day.Status == FreshnessStatus.OnTime ? null : day.LateNoticedAt);
}

/// <summary>The freshness verdicts of a range of days, or of the latest days that have one (<paramref name="From"/> and <paramref name="To"/> null).</summary>
public sealed record FreshnessReport(DateOnly? From, DateOnly? To, IReadOnlyList<FreshnessDay> Days);

/// <summary>Reads the freshness check's verdicts (written by the Notifier) for the API and the health page.</summary>
public sealed class FreshnessReader(FreshnessStore store)
{
    /// <summary>How many of the latest verdicts are shown when no range is asked for: as many days as the KPI page's default.</summary>
    public const int LatestDays = KpiRequest.DefaultDays;

    /// <summary>The range asked for (<see cref="KpiRequest.AskedRange"/>); none: the latest <see cref="LatestDays"/> verdicts.</summary>
    public async Task<FreshnessReport> ReadAsync(KpiRequest request, CancellationToken cancellationToken)
    {
        var range = request.AskedRange();
        var days = range is { } r
            ? await store.ReadAsync(r.From, r.To, cancellationToken).ConfigureAwait(false)
            : await store.ReadLatestAsync(LatestDays, cancellationToken).ConfigureAwait(false);
        return new FreshnessReport(range?.From, range?.To, days.Select(FreshnessDay.Of).ToList());
    }
}
