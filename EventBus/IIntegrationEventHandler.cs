namespace EventBus;

/// <summary>
/// Handles one message type. Resolved from a dependency injection scope of its own for every message.
/// Throwing fails the delivery: the message is retried and, in the end, dead-lettered. Throwing
/// <see cref="PoisonMessageException"/> refuses the message for good: it is dead-lettered at once with the reason.
/// </summary>
public interface IIntegrationEventHandler<in TMessage> where TMessage : class
{
    Task HandleAsync(TMessage message, MessageContext context, CancellationToken cancellationToken);
}
