namespace EventBus;

/// <summary>What a handler knows about the delivery of the message it handles.</summary>
public sealed class MessageContext
{
    private static readonly AsyncLocal<MessageContext?> s_current = new();

    /// <summary>The context of the message being handled on this async flow, or null outside a handler.</summary>
    public static MessageContext? Current => s_current.Value;

    /// <summary>The endpoint (queue) that received the message.</summary>
    public required string Endpoint { get; init; }

    /// <summary>The message id the producer gave; for plain JSON messages, the transport's message id.</summary>
    public required string MessageId { get; init; }

    public Guid? CorrelationId { get; init; }
    public Guid? ConversationId { get; init; }

    /// <summary>The id of the message whose handler published this one.</summary>
    public Guid? InitiatorId { get; init; }

    /// <summary>The address of the endpoint that sent the message (the source).</summary>
    public Uri? SourceAddress { get; init; }

    public Uri? DestinationAddress { get; init; }
    public DateTimeOffset? SentTime { get; init; }

    /// <summary>The message type URNs the producer declared, most specific first.</summary>
    public IReadOnlyList<string> MessageTypes { get; init; } = [];

    /// <summary>The envelope's headers; values that are not JSON strings are given as their JSON text.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>How many times the transport has delivered this message, this delivery included (1 the first time).</summary>
    public int ReceiveCount { get; init; }

    /// <summary>
    /// How long the transport keeps this delivery from other consumers once nobody renews it (SQS: the queue's visibility
    /// timeout; the bus renews it while the handler runs): if this process dies mid-way, the message is delivered again
    /// within this time. Null when the transport does not say.
    /// </summary>
    public TimeSpan? LockDuration { get; init; }

    /// <summary>
    /// Makes <paramref name="context"/> the <see cref="Current"/> one until the result is disposed.
    /// Transports call this around a handler so that publishing from the handler carries the ids forward.
    /// </summary>
    public static IDisposable Enter(MessageContext context)
    {
        var previous = s_current.Value;
        s_current.Value = context;
        return new Restore(previous);
    }

    private sealed class Restore(MessageContext? previous) : IDisposable
    {
        public void Dispose() => s_current.Value = previous;
    }
}
