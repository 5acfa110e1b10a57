using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EventBus.AwsSqs;

/// <summary>
/// The bus's spans and metrics, named after the OpenTelemetry messaging conventions. Export them with
/// <c>AddSource(EventBusTelemetry.Name)</c> and <c>AddMeter(EventBusTelemetry.Name)</c>.
/// </summary>
public static class EventBusTelemetry
{
    public const string Name = "EventBus";

    /// <summary>MassTransit's header with the producer's activity id, read when no <c>traceparent</c> came along.</summary>
    public const string MassTransitActivityIdHeader = "MT-Activity-Id";
    public const string TraceParentHeader = "traceparent";
    public const string TraceStateHeader = "tracestate";

    public static readonly ActivitySource ActivitySource = new(Name);
    private static readonly Meter s_meter = new(Name);

    private static readonly Counter<long> s_published = s_meter.CreateCounter<long>("messaging.client.sent.messages", "{message}", "Messages published.");
    private static readonly Counter<long> s_consumed = s_meter.CreateCounter<long>(
        "messaging.client.consumed.messages", "{message}", "Messages handled successfully.");
    private static readonly Counter<long> s_failed = s_meter.CreateCounter<long>(
        "eventbus.messages.failed", "{message}", "Deliveries whose handler failed after all in-process retries.");
    private static readonly Counter<long> s_retried = s_meter.CreateCounter<long>("eventbus.messages.retried", "{attempt}", "In-process handler retries.");
    private static readonly Counter<long> s_deadLettered = s_meter.CreateCounter<long>(
        "eventbus.messages.dead_lettered", "{message}", "Messages moved to a dead-letter queue.");
    private static readonly Histogram<double> s_duration = s_meter.CreateHistogram<double>("messaging.process.duration", "s", "Handler duration.");
    private static readonly ConcurrentDictionary<string, long> s_backlogs = new();

    static EventBusTelemetry()
    {
        s_meter.CreateObservableGauge("eventbus.queue.backlog",
            () => s_backlogs.Select(b => new Measurement<long>(b.Value, new KeyValuePair<string, object?>("messaging.destination.name", b.Key))),
            "{message}", "Messages waiting in the queue (SQS ApproximateNumberOfMessages).");
    }

    internal static Activity? StartPublish(string topicName, string messageId)
    {
        var activity = ActivitySource.StartActivity($"publish {topicName}", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "aws_sns")
            .SetTag("messaging.operation.type", "send")
            .SetTag("messaging.operation.name", "publish")
            .SetTag("messaging.destination.name", topicName)
            .SetTag("messaging.message.id", messageId);
        return activity;
    }

    /// <summary>
    /// The process span: a child of the producer's span, so one trace follows a message across services. Receives get no
    /// span of their own: one linked to its messages' producers would be a trace of its own per poll that brought
    /// something, burying the batches' traces in the dashboard (the time a message waited shows between its publish and
    /// process spans).
    /// </summary>
    internal static Activity? StartProcess(string queueName, ActivityContext producer, MessageContext context)
    {
        var activity = ActivitySource.StartActivity($"process {queueName}", ActivityKind.Consumer, producer);
        activity?.SetTag("messaging.system", "aws_sqs")
            .SetTag("messaging.operation.type", "process")
            .SetTag("messaging.destination.name", queueName)
            .SetTag("messaging.message.id", context.MessageId)
            .SetTag("messaging.message.conversation_id", context.ConversationId?.ToString())
            .SetTag("messaging.aws.sqs.receive_count", context.ReceiveCount);
        return activity;
    }

    /// <summary>The trace context to send: the publish span's, or the ambient one when nobody listens to ours.</summary>
    internal static (string? TraceParent, string? TraceState) Outgoing(Activity? publish) =>
        (publish ?? Activity.Current) is { IdFormat: ActivityIdFormat.W3C } activity ? (activity.Id, activity.TraceStateString) : (null, null);

    /// <summary>The producer's context from <c>traceparent</c>/<c>tracestate</c>, else from MassTransit's <c>MT-Activity-Id</c>.</summary>
    internal static ActivityContext Incoming(Func<string, string?> lookup)
    {
        var state = lookup(TraceStateHeader);
        foreach (var header in (ReadOnlySpan<string>)[TraceParentHeader, MassTransitActivityIdHeader])
        {
            if (lookup(header) is { } parent && ActivityContext.TryParse(parent, state, isRemote: true, out var context))
            {
                return context;
            }
        }
        return default;
    }

    private static KeyValuePair<string, object?> Destination(string name) => new("messaging.destination.name", name);

    internal static void Published(string topicName) => s_published.Add(1, Destination(topicName));
    internal static void Consumed(string queueName, TimeSpan duration)
    {
        s_consumed.Add(1, Destination(queueName));
        s_duration.Record(duration.TotalSeconds, Destination(queueName));
    }
    internal static void Failed(string queueName, Exception error) =>
        s_failed.Add(1, Destination(queueName), new KeyValuePair<string, object?>("error.type", error.GetType().FullName));
    internal static void Retried(string queueName) => s_retried.Add(1, Destination(queueName));
    internal static void DeadLettered(string queueName, string reason) =>
        s_deadLettered.Add(1, Destination(queueName), new KeyValuePair<string, object?>("eventbus.reason", reason));
    internal static void Backlog(string queueName, long messages) => s_backlogs[queueName] = messages;
}
