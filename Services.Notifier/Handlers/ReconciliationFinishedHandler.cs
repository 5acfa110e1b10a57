using Pipeline.Contracts.Alerts;
using Services.Notifier.Alerts;

namespace Services.Notifier.Handlers;

/// <summary>
/// A reconciliation's result (<c>pipeline reconcile --publish</c>, the stack's scheduled task): an equal one is a
/// <c>Reconciled</c> line in the log and nothing more; one with differences is a <c>ReconciliationFailed</c> alert on the
/// alerts topic, once.
/// </summary>
public sealed partial class ReconciliationFinishedHandler(AlertPublisher alerts, ILogger<ReconciliationFinishedHandler> logger)
    : IIntegrationEventHandler<ReconciliationFinished>
{
    public async Task HandleAsync(ReconciliationFinished message, MessageContext context, CancellationToken cancellationToken)
    {
        var alert = AlertComposer.Reconciliation(message);
        if (alert.Status == AlertStatus.Reconciled)
        {
            LogReconciled(alert.Status, alert.Summary);
            return;
        }
        await alerts.PublishOnceAsync(alert, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Status}: {Summary}")]
    private partial void LogReconciled(AlertStatus status, string summary);
}
