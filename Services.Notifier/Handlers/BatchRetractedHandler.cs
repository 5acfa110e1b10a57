using EventBus;
using Pipeline.Contracts;
using Services.Notifier.Alerts;

namespace Services.Notifier.Handlers;

/// <summary>A batch was retracted: its alert, once.</summary>
public sealed class BatchRetractedHandler(AlertPublisher alerts) : IIntegrationEventHandler<BatchRetracted>
{
    public Task HandleAsync(BatchRetracted message, MessageContext context, CancellationToken cancellationToken) =>
        alerts.PublishOnceAsync(AlertComposer.Retracted(message, Pipeline.Storage.Batches.BatchLayout.ManifestKey(message.BatchId)), cancellationToken);
}
