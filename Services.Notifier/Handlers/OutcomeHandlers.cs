using EventBus;
using Pipeline.Contracts;
using Services.Notifier.Alerts;

namespace Services.Notifier.Handlers;

public sealed class KpisUpdatedHandler(AlertPublisher alerts) : IIntegrationEventHandler<KpisUpdated>
{
    public Task HandleAsync(KpisUpdated message, MessageContext context, CancellationToken cancellationToken) =>
        alerts.PublishAsync(AlertComposer.Succeeded(message), message.AlreadyApplied ? null : message.ManifestETag, cancellationToken);
}

public sealed class BatchRejectedHandler(AlertPublisher alerts) : IIntegrationEventHandler<BatchRejected>
{
    public Task HandleAsync(BatchRejected message, MessageContext context, CancellationToken cancellationToken) =>
        alerts.PublishAsync(AlertComposer.Rejected(message), message.ManifestETag, cancellationToken);
}
