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
    /// <summary>The span of one anomaly check: the days a message changed, checked for one batch version.</summary>
    public const string CheckSpan = "anomaly check";

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
            opened = options.Value.Enabled ? await CheckAsync(batchId, version, days, cancellationToken).ConfigureAwait(false) : [];
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

    /// <summary>The check in a span of its own (<see cref="CheckSpan"/>), so that its time and AWS calls show beside the stages'.</summary>
    private async Task<IReadOnlyList<AnomalyState>> CheckAsync(string batchId, int version, IReadOnlyList<DateOnly> days,
        CancellationToken cancellationToken)
    {
        using var activity = PipelineTelemetry.ActivitySource.StartActivity(CheckSpan);
        activity?.SetTag("pipeline.batch.id", batchId);
        activity?.SetTag("pipeline.batch.version", version);
        activity?.SetTag("pipeline.anomaly.days", days.Count);
        var opened = await anomalies.CheckAsync(days, batchId, version, options.Value, cancellationToken).ConfigureAwait(false);
        activity?.SetTag("pipeline.anomaly.opened", opened.Count);
        return opened;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version}: {Days} days checked for anomalies; {Opened} opened by it")]
    private partial void LogChecked(string batchId, int version, int days, int opened);
}
