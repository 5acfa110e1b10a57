using System.Collections.Concurrent;
using System.Text;
using Aws.Sns;

namespace EventBus.AwsSqs;

/// <summary>
/// Publishes each message type to its own SNS topic (under <paramref name="topicScope"/>, if any), as a MassTransit envelope
/// of at most <paramref name="maxMessageBytes"/>.
/// </summary>
internal sealed class SqsEventBus(SnsClient sns, SqsTopology topology, string endpointQueueName, int maxMessageBytes, string? topicScope) : IEventBus
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _topicArns = new(StringComparer.Ordinal);

    public async Task PublishAsync<TMessage>(TMessage message, CancellationToken cancellationToken = default) where TMessage : class
    {
        ArgumentNullException.ThrowIfNull(message);
        var topicName = MessageNaming.ScopedEntityName(MessageNaming.EntityNameOf<TMessage>(), topicScope);
        var topicArn = await TopicArnAsync(topicName, cancellationToken).ConfigureAwait(false);

        var messageId = Guid.CreateVersion7();
        var envelope = EnvelopeSerializer.Wrap(message, messageId, DateTimeOffset.UtcNow);
        var region = sns.Options.Region;
        envelope.SourceAddress = SqsNames.QueueAddress(region, endpointQueueName).ToString();
        envelope.DestinationAddress = SqsNames.TopicAddress(region, topicName).ToString();

        // Inside a handler, the new message continues the handled one's conversation (MassTransit's rules).
        var handled = MessageContext.Current;
        envelope.CorrelationId = handled?.CorrelationId?.ToString();
        envelope.ConversationId = (handled?.ConversationId ?? messageId).ToString();
        envelope.InitiatorId = handled?.MessageId;

        using var activity = EventBusTelemetry.StartPublish(topicName, envelope.MessageId!);
        var (traceParent, traceState) = EventBusTelemetry.Outgoing(activity);
        if (traceParent is not null)
        {
            envelope.Headers![EventBusTelemetry.TraceParentHeader] = EnvelopeSerializer.HeaderValue(traceParent);
            envelope.Headers[EventBusTelemetry.MassTransitActivityIdHeader] = EnvelopeSerializer.HeaderValue(traceParent);
            if (!string.IsNullOrEmpty(traceState))
            {
                envelope.Headers[EventBusTelemetry.TraceStateHeader] = EnvelopeSerializer.HeaderValue(traceState);
            }
        }

        var body = EnvelopeSerializer.Serialize(envelope);
        var attributes = MessageAttributes.For(envelope);
        // SNS counts the message and its attributes (names, types and values) against its limit.
        var attributeBytes = attributes.Sum(a => Encoding.UTF8.GetByteCount(a.Key) + Encoding.UTF8.GetByteCount(a.Value) + "String".Length);
        var size = Encoding.UTF8.GetByteCount(body) + attributeBytes;
        if (size > maxMessageBytes)
        {
            throw new MessageTooLargeException(
                $"A {typeof(TMessage).Name} message of {size:N0} bytes cannot be published: " +
                $"at most {maxMessageBytes:N0} are allowed (EventBus:MaxMessageBytes).");
        }
        await sns.PublishAsync(new PublishRequest(topicArn, body)
        {
            MessageAttributes = attributes.ToDictionary(a => a.Key, a => SnsMessageAttributeValue.FromString(a.Value)),
        }, cancellationToken).ConfigureAwait(false);
        EventBusTelemetry.Published(topicName);
    }

    private Task<string> TopicArnAsync(string topicName, CancellationToken cancellationToken)
    {
        var lookup = _topicArns.GetOrAdd(topicName, name => new(() => topology.TopicArnAsync(name, CancellationToken.None)));
        var task = lookup.Value;
        if (task.IsFaulted || task.IsCanceled)
        {
            // Do not cache a failure (the topic may be provisioned a moment later).
            _topicArns.TryRemove(KeyValuePair.Create(topicName, lookup));
        }
        return task.WaitAsync(cancellationToken);
    }
}
