using EventBus;
using Pipeline.Contracts;
using Services.Notifier.Alerts;

namespace Services.Notifier.Handlers;

/// <summary>A version was rejected: its alert, once.</summary>
public sealed class BatchRejectedHandler(AlertPublisher alerts) : IIntegrationEventHandler<BatchRejected>
{
    public Task HandleAsync(BatchRejected message, MessageContext context, CancellationToken cancellationToken) => message.Version is null
        ? throw new PoisonMessageException("BatchRejected.version is missing: a rejection names the version it rejected")
        : alerts.PublishOnceAsync(AlertComposer.Rejected(message), cancellationToken);
}
