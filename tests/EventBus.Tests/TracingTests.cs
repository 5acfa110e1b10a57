using System.Collections.Concurrent;
using System.Diagnostics;
using EventBus.AwsSqs;
using EventBus.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventBus.Tests;

public sealed record Traced(string Step);

/// <summary>One trace follows a message from the publisher to the consumer, with W3C trace context or MassTransit's activity id.</summary>
public sealed class TracingTests : IClassFixture<AwsEmulatorFixture>, IDisposable
{
    private static readonly ActivitySource Test = new("EventBus.Tests");
    private readonly AwsEmulatorFixture aws;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public TracingTests(AwsEmulatorFixture aws)
    {
        this.aws = aws;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is EventBusTelemetry.Name or "EventBus.Tests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Records the span the handler runs in.</summary>
    public sealed class SpanRecorder(Received<Traced> received) : IIntegrationEventHandler<Traced>
    {
        public static readonly ConcurrentQueue<Activity?> Spans = new();

        public Task HandleAsync(Traced message, MessageContext context, CancellationToken cancellationToken)
        {
            Spans.Enqueue(Activity.Current);
            received.Add(message, context);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task The_consumers_process_span_is_a_child_of_the_publishers_span()
    {
        var received = new Received<Traced>();
        await using var consumer = await BusHost.StartAsync(aws, "traced-consumer",
            bus => bus.AddSubscription<Traced, SpanRecorder>(), services: s => s.AddSingleton(received));
        await using var producer = await BusHost.StartAsync(aws, "traced-producer");

        using (Test.StartActivity("submit batch"))
        {
            await producer.Bus.PublishAsync(new Traced("published"));
        }

        var (_, context) = Assert.Single(await received.WaitForAsync(1));
        var publish = Assert.Single(_stopped, a => a.OperationName == "publish EventBus_Tests-Traced");
        var submit = Assert.Single(_stopped, a => a.OperationName == "submit batch");
        Assert.Equal(submit.SpanId, publish.ParentSpanId);
        Assert.Equal(ActivityKind.Producer, publish.Kind);
        Assert.Equal("aws_sns", publish.GetTagItem("messaging.system"));
        Assert.Equal(context.MessageId, publish.GetTagItem("messaging.message.id"));

        var process = Assert.Single(SpanRecorder.Spans, s => s?.TraceId == submit.TraceId);
        Assert.NotNull(process);
        Assert.Equal(publish.SpanId, process.ParentSpanId);
        Assert.Equal("process traced-consumer", process.OperationName);
        Assert.Equal(ActivityKind.Consumer, process.Kind);
        Assert.Equal("aws_sqs", process.GetTagItem("messaging.system"));
        Assert.Equal("process", process.GetTagItem("messaging.operation.type"));
        Assert.Equal("traced-consumer", process.GetTagItem("messaging.destination.name"));
        Assert.Equal(context.MessageId, process.GetTagItem("messaging.message.id"));

        // The trace context also travels in the envelope, MassTransit's way.
        Assert.Equal(publish.Id, context.Headers["traceparent"]);
        Assert.Equal(publish.Id, context.Headers["MT-Activity-Id"]);

        // A receive is no trace of its own: the dashboard would list one per poll that brought something.
        Assert.DoesNotContain(_stopped, a => a.Source.Name == EventBusTelemetry.Name && a.ParentSpanId == default
            && Equals(a.GetTagItem("messaging.destination.name"), "traced-consumer"));
    }

    [Fact]
    public async Task A_MassTransit_producer_that_sends_only_its_activity_id_is_continued()
    {
        var received = new Received<Traced>();
        await using var consumer = await BusHost.StartAsync(aws, "traced-from-masstransit",
            bus => bus.AddSubscription<Traced, SpanRecorder>(), services: s => s.AddSingleton(received));
        using var sqs = aws.CreateSqsClient();
        var traceId = ActivityTraceId.CreateRandom();
        var spanId = ActivitySpanId.CreateRandom();
        var envelope = EnvelopeSerializer.Wrap(new Traced("from MassTransit"), Guid.NewGuid(), DateTimeOffset.UtcNow);
        envelope.Headers!["MT-Activity-Id"] = EnvelopeSerializer.HeaderValue($"00-{traceId}-{spanId}-01");

        // No message attributes at all: the trace context is only in the envelope's headers.
        await QueueProbe.SendAsync(sqs, "traced-from-masstransit", EnvelopeSerializer.Serialize(envelope));

        await received.WaitForAsync(1);
        var process = Assert.Single(SpanRecorder.Spans, s => s?.TraceId == traceId);
        Assert.Equal(spanId, process!.ParentSpanId);
    }
}
