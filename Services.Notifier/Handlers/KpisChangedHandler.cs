using Microsoft.Extensions.Options;
using Pipeline.Engine.DataQuality;
using Pipeline.Storage.DataQuality;
using Services.Notifier.Alerts;

namespace Services.Notifier.Handlers;

/// <summary>
/// An outcome that changed KPIs — a version folded in (<c>KpisUpdated</c>) or one taken out (<c>BatchRetracted</c>): the
/// anomaly check of the days it changed (<see cref="AnomalyStore"/>), then its alert, once, and an <c>Anomaly</c> alert,
/// once, for each figure the version made anomalous. Figures it brought back are cleared without an alert.
/// </summary>
public sealed partial class KpisChangedHandler<TMessage>(
    AlertPublisher alerts, AnomalyStore anomalies, IOptions<AnomalyOptions> options, ILogger<KpisChangedHandler<TMessage>> logger)
    : IIntegrationEventHandler<TMessage> where TMessage : class
{
    public async Task HandleAsync(TMessage message, MessageContext context, CancellationToken cancellationToken)
    {
        var outcome = AlertComposer.ForOutcome(message)!;
        var (batchId, version, days) = message switch
        {
            KpisUpdated update => (update.BatchId, update.Version, update.Days),
            BatchRetracted retraction => (retraction.BatchId, retraction.Version, retraction.Days),
            _ => throw new NotSupportedException($"{typeof(TMessage).Name} does not change KPIs."),
        };
        // The check first, so that the outcome's alert (which refreshes the dashboards) finds anomalies opened and cleared;
        // a check that fails does not hold the outcome's alert back, and is tried again with the message.
        IReadOnlyList<AnomalyState> opened;
        try
        {
            opened = options.Value.Enabled
                ? await anomalies.CheckAsync(days, batchId, version, options.Value, cancellationToken).ConfigureAwait(false)
                : [];
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            await alerts.PublishOnceAsync(outcome, cancellationToken).ConfigureAwait(false);
            throw;
        }
        LogChecked(batchId, version, days.Count, opened.Count);
        await alerts.PublishOnceAsync(outcome, cancellationToken).ConfigureAwait(false);
        foreach (var anomaly in opened)
        {
            await alerts.PublishOnceAsync(AlertComposer.Anomaly(anomaly, options.Value), cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version}: {Days} days checked for anomalies; {Opened} opened by it")]
    private partial void LogChecked(string batchId, int version, int days, int opened);
}
