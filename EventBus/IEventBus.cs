namespace EventBus;

/// <summary>Publishes integration events to every endpoint that subscribes to their type.</summary>
public interface IEventBus
{
    /// <summary>
    /// Publishes <paramref name="message"/>. Called while a handler runs, the new message carries the handled message's
    /// correlation and conversation ids forward, and its message id as the initiator id.
    /// </summary>
    Task PublishAsync<TMessage>(TMessage message, CancellationToken cancellationToken = default) where TMessage : class;
}
