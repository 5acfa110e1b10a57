using EventBus;
using Pipeline.Contracts;
using Services.Notifier.Alerts;

namespace Services.Notifier.Handlers;

/// <summary>A version (or a submission, or a retraction request) was refused: its alert, once.</summary>
public sealed class BatchRejectedHandler(AlertPublisher alerts) : IIntegrationEventHandler<BatchRejected>
{
    public Task HandleAsync(BatchRejected message, MessageContext context, CancellationToken cancellationToken) =>
        alerts.PublishOnceAsync(AlertComposer.Rejected(message, context.InitiatorId?.ToString() ?? context.MessageId), cancellationToken);
}
