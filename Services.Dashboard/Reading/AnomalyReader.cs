using Pipeline.Storage.DataQuality;

namespace Services.Dashboard.Reading;

/// <summary>
/// An anomaly open now (docs/data-quality.md, "Anomalies"): the day's figure (a category's daily_revenue names the
/// category), its value, its baseline, how many spreads away, and the batch version whose data made it so.
/// </summary>
public sealed record OpenAnomaly(
    DateOnly OrderDate, string Figure, string? Category, double Value, double Baseline, double Spread, double Deviation, int History,
    string BatchId, int Version, DateTimeOffset OpenedAt, DateTimeOffset UpdatedAt);

/// <summary>The open anomalies, as the Notifier's check keeps them: one Query of the data-quality table's anomaly partition.</summary>
public sealed class AnomalyReader(AnomalyStore anomalies)
{
    /// <summary>The open anomalies of the days in [from, to] (every day when an end is not given), by day then figure.</summary>
    public async Task<IReadOnlyList<OpenAnomaly>> OpenAsync(DateOnly? from, DateOnly? to, CancellationToken cancellationToken) =>
        (await anomalies.ListOpenAsync(from, to, cancellationToken).ConfigureAwait(false))
            .Select(a => new OpenAnomaly(a.Key.Day, a.Key.FigureName, a.Key.Category, a.Value, a.Baseline, a.Spread, a.Deviation, a.History,
                a.BatchId, a.Version, a.OpenedAt, a.UpdatedAt))
            .ToList();
}
