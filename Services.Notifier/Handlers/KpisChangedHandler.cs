using Microsoft.Extensions.Options;
using Pipeline.Engine.Quality;
using Pipeline.Storage.Quality;
using Services.Notifier.Alerts;

namespace Services.Notifier.Handlers;

/// <summary>
/// An outcome that changed KPIs — a version folded in (<c>KpisUpdated</c>) or one taken out (<c>BatchRetracted</c>): its
/// alert, once; then the anomaly check of the days it changed (<see cref="AnomalyStore"/>), and an <c>Anomaly</c> alert,
/// once, for each figure the version made anomalous. Figures it brought back are cleared without an alert.
/// </summary>
public sealed partial class KpisChangedHandler<TMessage>(
    AlertPublisher alerts, AnomalyStore anomalies, IOptions<AnomalyOptions> options, ILogger<KpisChangedHandler<TMessage>> logger)
    : IIntegrationEventHandler<TMessage> where TMessage : class
{
    public async Task HandleAsync(TMessage message, MessageContext context, CancellationToken cancellationToken)
    {
        await alerts.PublishOnceAsync(AlertComposer.ForOutcome(message)!, cancellationToken).ConfigureAwait(false);
        var (batchId, version, days, categories) = message switch
        {
            KpisUpdated update => (update.BatchId, update.Version, update.Days, update.Categories),
            BatchRetracted retraction => (retraction.BatchId, retraction.Version, retraction.Days, (IReadOnlyList<string>)[]),
            _ => throw new NotSupportedException($"{typeof(TMessage).Name} does not change KPIs."),
        };
        if (!options.Value.Enabled)
        {
            return;
        }
        var opened = await anomalies.CheckAsync(days, categories, batchId, version, options.Value, cancellationToken).ConfigureAwait(false);
        LogChecked(batchId, version, days.Count, opened.Count);
        foreach (var anomaly in opened)
        {
            await alerts.PublishOnceAsync(AlertComposer.Anomaly(anomaly, options.Value), cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version}: {Days} days checked for anomalies; {Opened} opened by it")]
    private partial void LogChecked(string batchId, int version, int days, int opened);
}
