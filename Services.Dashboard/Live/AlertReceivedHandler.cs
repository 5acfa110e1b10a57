using EventBus;
using Pipeline.Contracts.Alerts;

namespace Services.Dashboard.Live;

/// <summary>An alert on the dashboard's own queue (subscribed to the alerts topic): tell the open pages.</summary>
public sealed class AlertReceivedHandler(PipelineChanges changes) : IIntegrationEventHandler<Alert>
{
    public Task HandleAsync(Alert message, MessageContext context, CancellationToken cancellationToken)
    {
        changes.Report(message);
        return Task.CompletedTask;
    }
}
