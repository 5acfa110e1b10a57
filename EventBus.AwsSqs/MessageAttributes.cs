using System.Text.RegularExpressions;

namespace EventBus.AwsSqs;

/// <summary>
/// The SQS/SNS message attributes that travel with an envelope: its content type, ids and trace context first, then
/// its string headers, never more than the 10 SQS accepts (a raw SNS delivery becomes an SQS message with the same attributes).
/// </summary>
internal static partial class MessageAttributes
{
    public const int MaxCount = 10;
    public const string ContentType = "Content-Type";

    // Fault attributes of dead-lettered messages, named like MassTransit's error-queue headers.
    public const string Reason = "MT-Reason";
    public const string FaultExceptionType = "MT-Fault-ExceptionType";
    public const string FaultMessage = "MT-Fault-Message";
    public const string FaultTimestamp = "MT-Fault-Timestamp";
    public static readonly string[] FaultNames = [DeadLetterQueue.OriginalMessageIdAttribute, Reason, FaultExceptionType, FaultMessage, FaultTimestamp];

    private static readonly string[] TraceHeaders =
        [EventBusTelemetry.TraceParentHeader, EventBusTelemetry.TraceStateHeader, EventBusTelemetry.MassTransitActivityIdHeader];

    public static Dictionary<string, string> For(MessageEnvelope envelope)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ContentType] = EnvelopeSerializer.ContentType,
        };
        AddIfRoom(attributes, "MessageId", envelope.MessageId);
        AddIfRoom(attributes, "CorrelationId", envelope.CorrelationId);
        AddIfRoom(attributes, "ConversationId", envelope.ConversationId);
        var headers = envelope.Headers ?? [];
        // The trace context goes first, so that a message with many headers still joins its trace.
        foreach (var (name, value) in TraceHeaders.Where(headers.ContainsKey).Select(n => KeyValuePair.Create(n, headers[n])).Concat(headers))
        {
            if (value.ValueKind == System.Text.Json.JsonValueKind.String)
            {
                AddIfRoom(attributes, name, value.GetString());
            }
        }
        return attributes;
    }

    /// <summary>Adds <paramref name="name"/> unless the value is empty, the name is not allowed, it is already there, or 10 are there.</summary>
    public static void AddIfRoom(Dictionary<string, string> attributes, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value) && attributes.Count < MaxCount && IsAllowedName(name))
        {
            attributes.TryAdd(name, value);
        }
    }

    // SQS: up to 256 of [A-Za-z0-9_.-], not starting with a period or with the reserved AWS./Amazon. prefixes.
    private static bool IsAllowedName(string name) =>
        name.Length <= 256 && AllowedName().IsMatch(name)
        && !name.StartsWith("AWS.", StringComparison.OrdinalIgnoreCase) && !name.StartsWith("Amazon.", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]*$")]
    private static partial Regex AllowedName();
}
