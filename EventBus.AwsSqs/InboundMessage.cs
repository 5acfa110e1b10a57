using System.Globalization;
using System.Text;
using System.Text.Json;
using Amazon.SQS.Model;

namespace EventBus.AwsSqs;

/// <summary>What a queue expects in its message bodies.</summary>
internal enum BodyFormat
{
    /// <summary>MassTransit envelopes, raw or wrapped in an SNS notification; routed by message type URN.</summary>
    Envelope,

    /// <summary>Plain JSON of the queue's one message type (S3 event notifications, producers that are not MassTransit).</summary>
    PlainJson,
}

/// <summary>A received SQS message read into the handler's message and context, or rejected as poison.</summary>
internal sealed record InboundMessage(Subscription Subscription, object Message, MessageContext Context, IReadOnlyDictionary<string, string> Attributes)
{
    private const string SnsNotification = "Notification";

    /// <exception cref="MessageFormatException">The message can never be handled here (also: larger than <paramref name="maxMessageBytes"/>).</exception>
    public static InboundMessage Read(Message message, EndpointQueue queue, BodyFormat format, EventBusSubscriptions subscriptions, int maxMessageBytes)
    {
        var attributes = message.MessageAttributes?.Where(a => a.Value.StringValue is not null)
            .ToDictionary(a => a.Key, a => a.Value.StringValue, StringComparer.Ordinal) ?? [];
        var body = message.Body ?? "";
        var receiveCount = message.Attributes?.TryGetValue("ApproximateReceiveCount", out var count) == true
            ? int.Parse(count, CultureInfo.InvariantCulture) : 1;

        using var document = Parse(body);
        var root = document.RootElement;
        if (IsSnsNotification(root))
        {
            // Without raw delivery, SNS wraps the message and carries its attributes in the wrapper.
            body = root.GetProperty("Message").GetString() ?? "";
            foreach (var attribute in root.TryGetProperty("MessageAttributes", out var wrapped) && wrapped.ValueKind == JsonValueKind.Object
                         ? wrapped.EnumerateObject() : default)
            {
                if (attribute.Value.ValueKind == JsonValueKind.Object
                    && attribute.Value.TryGetProperty("Value", out var value) && value.ValueKind == JsonValueKind.String)
                {
                    attributes[attribute.Name] = value.GetString()!;
                }
            }
        }

        // What came through a topic is never larger (the SNS wrapper aside); anything larger was sent to the queue some other way.
        if (Encoding.UTF8.GetByteCount(body) is var size && size > maxMessageBytes)
        {
            throw new MessageFormatException($"The message is {size:N0} bytes; at most {maxMessageBytes:N0} are allowed (EventBus:MaxMessageBytes).");
        }

        if (format == BodyFormat.PlainJson)
        {
            var subscription = subscriptions.All[0];
            using var plain = body == message.Body ? null : Parse(body);
            var context = new MessageContext
            {
                Endpoint = queue.Name,
                MessageId = message.MessageId,
                Headers = attributes,
                ReceiveCount = receiveCount,
                LockDuration = queue.VisibilityTimeout,
            };
            return new(subscription, EnvelopeSerializer.ReadMessage((plain ?? document).RootElement, subscription.MessageType), context, attributes);
        }

        var envelope = EnvelopeSerializer.Deserialize(body);
        var handled = subscriptions.Find(envelope.MessageType!)
            ?? throw new MessageFormatException($"No handler on {queue.Name} for message type {string.Join(", ", envelope.MessageType!)}.");
        return new(handled, EnvelopeSerializer.ReadMessage(envelope.Message!.Value, handled.MessageType),
            envelope.ToContext(queue.Name, message.MessageId, receiveCount, queue.VisibilityTimeout), attributes);
    }

    private static bool IsSnsNotification(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object
        && root.TryGetProperty("Type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == SnsNotification
        && root.TryGetProperty("TopicArn", out _)
        && root.TryGetProperty("Message", out var inner) && inner.ValueKind == JsonValueKind.String;

    private static JsonDocument Parse(string body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new MessageFormatException($"The body is not JSON: {e.Message}", e);
        }
    }
}
