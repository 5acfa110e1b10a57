using Services.Notifier.Alerts;

namespace Services.Notifier.Handlers;

/// <summary>
/// An outcome another service announced that changed no KPIs — a version was rejected (<c>BatchRejected</c>) or a retraction
/// was refused (<c>BatchRetractionRefused</c>): its alert, once (<see cref="AlertComposer.ForOutcome"/>); outcomes that changed
/// KPIs are <see cref="KpisChangedHandler{TMessage}"/>'s. A rejection that names no version is poison.
/// </summary>
public sealed class OutcomeHandler<TMessage>(AlertPublisher alerts) : IIntegrationEventHandler<TMessage> where TMessage : class
{
    public Task HandleAsync(TMessage message, MessageContext context, CancellationToken cancellationToken) =>
        alerts.PublishOnceAsync(AlertComposer.ForOutcome(message)
            ?? throw new PoisonMessageException($"{typeof(TMessage).Name} has no alert: a rejection names the version it rejected"), cancellationToken);
}
