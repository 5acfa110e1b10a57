using EventBus;
using Pipeline.Contracts;
using Services.Notifier.Alerts;

namespace Services.Notifier.Handlers;

/// <summary>A retraction request was refused: its alert, once per request.</summary>
public sealed class BatchRetractionRefusedHandler(AlertPublisher alerts) : IIntegrationEventHandler<BatchRetractionRefused>
{
    public Task HandleAsync(BatchRetractionRefused message, MessageContext context, CancellationToken cancellationToken) =>
        alerts.PublishOnceAsync(AlertComposer.RetractionRefused(message), cancellationToken);
}
