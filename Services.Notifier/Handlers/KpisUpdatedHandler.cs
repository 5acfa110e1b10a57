using EventBus;
using Pipeline.Contracts;
using Services.Notifier.Alerts;

namespace Services.Notifier.Handlers;

/// <summary>A version succeeded: its alert, once.</summary>
public sealed class KpisUpdatedHandler(AlertPublisher alerts) : IIntegrationEventHandler<KpisUpdated>
{
    public Task HandleAsync(KpisUpdated message, MessageContext context, CancellationToken cancellationToken) =>
        alerts.PublishOnceAsync(AlertComposer.Succeeded(message), cancellationToken);
}
