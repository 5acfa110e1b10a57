using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using EventBus.AwsSqs;
using EventBus.Tests.Infrastructure;

namespace EventBus.Tests;

public sealed record Flaky(int Number);

/// <summary>The bus's metrics, as an OpenTelemetry exporter would collect them, for one queue.</summary>
public sealed class MetricsTests : IClassFixture<AwsEmulatorFixture>, IDisposable
{
    private const string Queue = "metered";
    private readonly AwsEmulatorFixture _aws;
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();
    private readonly MeterListener _listener = new();

    public MetricsTests(AwsEmulatorFixture aws)
    {
        _aws = aws;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EventBusTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var map = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            map[tag.Key] = tag.Value;
        }
        // Other test classes run at the same time: keep this queue's measurements (and the publishes, by topic).
        if (map.GetValueOrDefault("messaging.destination.name") is Queue or "EventBus_Tests-Flaky")
        {
            _measurements.Enqueue((instrument.Name, value, map));
        }
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Fails the first try of every message, and every try of message 0.</summary>
    public sealed class FlakyHandler : IIntegrationEventHandler<Flaky>
    {
        private static readonly ConcurrentDictionary<int, int> s_tries = new();

        public Task HandleAsync(Flaky message, MessageContext context, CancellationToken cancellationToken) =>
            s_tries.AddOrUpdate(message.Number, 1, (_, n) => n + 1) == 1 || message.Number == 0
                ? throw new TimeoutException("flaky")
                : Task.CompletedTask;
    }

    private double Sum(string instrument, string? reason = null) =>
        _measurements
            .Where(m => m.Instrument == instrument && (reason is null || Equals(m.Tags.GetValueOrDefault("eventbus.reason"), reason)))
            .Sum(m => m.Value);

    [Fact]
    public async Task Published_consumed_retried_failed_and_dead_lettered_messages_and_the_backlog_are_measured()
    {
        await using var host = await BusHost.StartAsync(_aws, Queue, bus => bus.AddSubscription<Flaky, FlakyHandler>(),
            options => { options.ImmediateRetries = 1; options.MaxReceiveCount = 1; options.BacklogInterval = TimeSpan.FromMilliseconds(200); });
        using var sqs = _aws.CreateSqsClient();

        await host.Bus.PublishAsync(new Flaky(0));
        await host.Bus.PublishAsync(new Flaky(1));
        await host.Bus.PublishAsync(new Flaky(2));
        await QueueProbe.SendAsync(sqs, Queue, "poison");

        await QueueProbe.EventuallyAsync(() => Task.FromResult(Sum("messaging.client.consumed.messages") == 2 && Sum("eventbus.messages.dead_lettered") == 2),
            "two messages consumed and two dead-lettered");
        _listener.RecordObservableInstruments();

        Assert.Equal(3, Sum("messaging.client.sent.messages"));
        Assert.Equal(3, Sum("eventbus.messages.retried")); // one retry for each of the three
        Assert.Equal(1, Sum("eventbus.messages.failed"));
        Assert.Equal(1, Sum("eventbus.messages.dead_lettered", DeadLetterQueue.FaultReason));
        Assert.Equal(1, Sum("eventbus.messages.dead_lettered", DeadLetterQueue.PoisonReason));
        Assert.Equal(2, _measurements.Count(m => m.Instrument == "messaging.process.duration"));
        Assert.Contains(_measurements, m => m.Instrument == "eventbus.queue.backlog");
        Assert.Equal("System.TimeoutException", Assert.Single(_measurements, m => m.Instrument == "eventbus.messages.failed").Tags["error.type"]);
    }
}
