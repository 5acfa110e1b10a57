using Microsoft.Extensions.DependencyInjection;

namespace EventBus;

/// <summary>One message type an endpoint handles, and the handler that handles it.</summary>
public abstract class Subscription(Type messageType, Type handlerType)
{
    public Type MessageType { get; } = messageType;
    public Type HandlerType { get; } = handlerType;
    public string Urn { get; } = MessageNaming.UrnOf(messageType);

    /// <summary>Resolves the handler from <paramref name="services"/> (the message's own scope) and lets it handle the message.</summary>
    public abstract Task InvokeAsync(IServiceProvider services, object message, MessageContext context, CancellationToken cancellationToken);
}

internal sealed class Subscription<TMessage, THandler>() : Subscription(typeof(TMessage), typeof(THandler))
    where TMessage : class
    where THandler : class, IIntegrationEventHandler<TMessage>
{
    public override Task InvokeAsync(IServiceProvider services, object message, MessageContext context, CancellationToken cancellationToken) =>
        services.GetRequiredService<THandler>().HandleAsync((TMessage)message, context, cancellationToken);
}

/// <summary>The message types an endpoint handles, matched by URN (never by loading a type named in the message).</summary>
public sealed class EventBusSubscriptions
{
    private readonly List<Subscription> _subscriptions = [];
    private readonly Dictionary<string, Subscription> _byUrn = new(StringComparer.Ordinal);

    public IReadOnlyList<Subscription> All => _subscriptions;

    /// <exception cref="InvalidOperationException">The type already has a handler on this endpoint.</exception>
    public void Add<TMessage, THandler>()
        where TMessage : class
        where THandler : class, IIntegrationEventHandler<TMessage>
    {
        var subscription = new Subscription<TMessage, THandler>();
        if (!_byUrn.TryAdd(subscription.Urn, subscription))
        {
            // One handler per type keeps retries simple: a retry never re-runs a handler that already succeeded.
            throw new InvalidOperationException(
                $"{typeof(TMessage).Name} already has the handler {_byUrn[subscription.Urn].HandlerType.Name} on this endpoint.");
        }
        _subscriptions.Add(subscription);
    }

    /// <summary>The subscription for the first of <paramref name="urns"/> (most specific first) that this endpoint handles.</summary>
    public Subscription? Find(IEnumerable<string> urns)
    {
        foreach (var urn in urns)
        {
            if (_byUrn.TryGetValue(urn, out var subscription))
            {
                return subscription;
            }
        }
        return null;
    }
}

/// <summary>Registers an endpoint's handlers; transports return their own builder with transport options.</summary>
public interface IEventBusBuilder
{
    IServiceCollection Services { get; }

    /// <summary>The endpoint's name: the queue its messages arrive on.</summary>
    string EndpointName { get; }

    /// <summary>Handles <typeparamref name="TMessage"/> on this endpoint with <typeparamref name="THandler"/> (scoped, one per message).</summary>
    IEventBusBuilder AddSubscription<TMessage, THandler>()
        where TMessage : class
        where THandler : class, IIntegrationEventHandler<TMessage>;
}
