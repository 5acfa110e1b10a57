using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;

namespace EventBus;

/// <summary>Writes and reads <see cref="MessageEnvelope"/>s exactly as MassTransit's System.Text.Json serializer does.</summary>
public static class EnvelopeSerializer
{
    public const string ContentType = "application/vnd.masstransit+json";

    /// <summary>camelCase out, any case in, nulls written: MassTransit's settings, also used for plain JSON messages.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>An envelope for a new message, with fresh message id and <see cref="MessageEnvelope.SentTime"/> now.</summary>
    public static MessageEnvelope Wrap<TMessage>(TMessage message, Guid messageId, DateTimeOffset sentTime) where TMessage : class => new()
    {
        MessageId = messageId.ToString(),
        MessageType = [MessageNaming.UrnOf<TMessage>()],
        Message = JsonSerializer.SerializeToElement(message, Options),
        SentTime = sentTime.UtcDateTime,
        Headers = [],
        Host = HostInfo.Current,
    };

    public static string Serialize(MessageEnvelope envelope) => JsonSerializer.Serialize(envelope, Options);

    /// <exception cref="MessageFormatException">The text is not a MassTransit envelope with a message and its type.</exception>
    public static MessageEnvelope Deserialize(string json)
    {
        MessageEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize<MessageEnvelope>(json, Options);
        }
        catch (JsonException e)
        {
            throw new MessageFormatException($"The body is not a valid message envelope: {e.Message}", e);
        }

        if (envelope?.Message is not { ValueKind: JsonValueKind.Object } || envelope.MessageType is not { Length: > 0 })
        {
            throw new MessageFormatException("The body is not a message envelope: it lacks 'message' or 'messageType'.");
        }
        if (envelope.MessageType.Any(string.IsNullOrWhiteSpace))
        {
            throw new MessageFormatException("The envelope's 'messageType' has an empty entry; each must be a message type URN.");
        }
        return envelope;
    }

    /// <summary>Reads JSON (an envelope's message, or a plain JSON body) as <paramref name="messageType"/>.</summary>
    /// <exception cref="MessageFormatException">The JSON does not fit the type, or the type refuses its values.</exception>
    public static object ReadMessage(JsonElement json, Type messageType)
    {
        object? message;
        try
        {
            message = json.Deserialize(messageType, Options);
        }
        catch (Exception e)
        {
            // Not only JsonException: a constructor that validates its values throws its own exceptions, and the same
            // JSON fails the same way on every delivery.
            throw new MessageFormatException($"The message does not fit {messageType.Name}: {e.Message}", e);
        }
        if (message is null)
        {
            throw new MessageFormatException($"The message is null where a {messageType.Name} was expected.");
        }
        // System.Text.Json leaves a missing property null whatever its annotation says: a message without a field its type
        // requires would fail in its handler on every delivery, so it is refused here, once, naming the field.
        foreach (var required in s_requiredProperties.GetOrAdd(messageType, RequiredProperties))
        {
            if (required.GetValue(message) is null)
            {
                throw new MessageFormatException(
                    $"The message does not fit {messageType.Name}: {Options.PropertyNamingPolicy!.ConvertName(required.Name)} is missing (it is required)");
            }
        }
        return message;
    }

    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> s_requiredProperties = new();

    /// <summary>The type's public properties of a reference type that is not nullable (<c>string</c>, not <c>string?</c>).</summary>
    private static PropertyInfo[] RequiredProperties(Type messageType)
    {
        var nullability = new NullabilityInfoContext();
        return messageType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => !p.PropertyType.IsValueType && p.GetIndexParameters().Length == 0 && nullability.Create(p).ReadState == NullabilityState.NotNull)
            .ToArray();
    }

    /// <summary>
    /// Writes and reads an envelope of each of <paramref name="messageTypes"/> once (an empty instance), so that the JSON
    /// contracts of the types a service handles and sends are built at start-up rather than on its first message.
    /// </summary>
    public static void WarmUp(IEnumerable<Type> messageTypes)
    {
        foreach (var type in messageTypes.Where(t => t is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false }))
        {
            try
            {
                var empty = System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(type);
                var envelope = new MessageEnvelope
                {
                    MessageId = Guid.Empty.ToString(),
                    MessageType = [MessageNaming.UrnOf(type)],
                    Message = JsonSerializer.SerializeToElement(empty, type, Options),
                    SentTime = DateTime.UtcNow,
                    Headers = [],
                    Host = HostInfo.Current,
                };
                ReadMessage(Deserialize(Serialize(envelope)).Message!.Value, type);
            }
            catch (Exception e) when (e is MessageFormatException or JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
            {
                // A type that refuses empty values is read for the first time with its first message.
            }
        }
    }

    /// <summary>A header value as text: JSON strings as themselves, anything else as its JSON.</summary>
    public static string HeaderText(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    public static JsonElement HeaderValue(string value) => JsonSerializer.SerializeToElement(value, Options);

    /// <summary>The context a handler sees for a message that came in <paramref name="envelope"/>.</summary>
    public static MessageContext ToContext(this MessageEnvelope envelope, string endpoint, string transportMessageId, int receiveCount,
        TimeSpan? lockDuration = null) => new()
        {
            Endpoint = endpoint,
            MessageId = envelope.MessageId ?? transportMessageId,
            CorrelationId = ParseGuid(envelope.CorrelationId),
            ConversationId = ParseGuid(envelope.ConversationId),
            InitiatorId = ParseGuid(envelope.InitiatorId),
            SourceAddress = ParseUri(envelope.SourceAddress),
            DestinationAddress = ParseUri(envelope.DestinationAddress),
            SentTime = envelope.SentTime is { } sent ? new DateTimeOffset(DateTime.SpecifyKind(sent, DateTimeKind.Utc)) : null,
            MessageTypes = envelope.MessageType ?? [],
            Headers = envelope.Headers?.ToDictionary(h => h.Key, h => HeaderText(h.Value)) ?? [],
            ReceiveCount = receiveCount,
            LockDuration = lockDuration,
        };

    private static Guid? ParseGuid(string? text) => Guid.TryParse(text, out var id) ? id : null;

    private static Uri? ParseUri(string? text) => Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : null;
}
