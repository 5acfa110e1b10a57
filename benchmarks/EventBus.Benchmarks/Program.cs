using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using Aws.Sns;
using Emulators;
using EventBus;
using EventBus.AwsSqs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static Benchmarks.Figures;

// Both sides move the same number of messages through the same emulator, with 8 producers and 8 consumers:
//   bare: SendMessage -> ReceiveMessage (batches of 10, long polling) -> DeleteMessageBatch
//   bus:  IEventBus.PublishAsync (SNS -> raw delivery to SQS) -> handler (concurrency 8) -> batched delete
// Each round runs both, alternating which goes first; the medians are compared.
const int Concurrency = 8;
var messages = Option("--messages", 4000);
var rounds = Option("--rounds", 3);

await using var emulator = await LocalEmulator.StartAsync(EmulatedService.Aws);
var credentials = new BasicAWSCredentials(EmulatorInstallation.AccessKeyId, EmulatorInstallation.SecretAccessKey);
var sqsConfig = new AmazonSQSConfig { ServiceURL = emulator.ServiceUrl.ToString(), AuthenticationRegion = EmulatorInstallation.Region };
var snsOptions = new SnsClientOptions { Region = EmulatorInstallation.Region, ServiceUrl = emulator.ServiceUrl, Credentials = credentials };
using var sqs = new AmazonSQSClient(credentials, sqsConfig);

// One bus (one queue, subscribed to one topic) for every run, as a service would run it.
var counter = new HandledCounter();
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton<IAmazonSQS>(_ => new AmazonSQSClient(credentials, sqsConfig));
builder.Services.AddSingleton(_ => SnsClient.Create(snsOptions));
builder.Services.AddSingleton(counter);
builder.AddSqsEventBus("bench-bus", options => { options.MaxConcurrency = Concurrency; options.WaitTime = TimeSpan.FromSeconds(1); })
    .AddSubscription<BenchMessage, CountingHandler>();
using var host = builder.Build();
await host.StartAsync();
var publisher = host.Services.GetRequiredService<IEventBus>();

Console.WriteLine($"{messages} messages per run, {rounds} rounds, concurrency {Concurrency}, fauxqs at {emulator.ServiceUrl}; load average {LoadAverage()}");
await BareLoopAsync(500);
await BusAsync(500);

var bare = new List<double>();
var bus = new List<double>();
for (var round = 1; round <= rounds; round++)
{
    // Alternate the order so neither side always runs on a warmer (or more fragmented) emulator.
    if (round % 2 == 1)
    {
        bare.Add(await BareLoopAsync(messages));
        bus.Add(await BusAsync(messages));
    }
    else
    {
        bus.Add(await BusAsync(messages));
        bare.Add(await BareLoopAsync(messages));
    }
    Console.WriteLine($"round {round}: bare {bare[^1],8:N0} msg/s   bus {bus[^1],8:N0} msg/s");
}

var (bareMedian, busMedian) = (Median(bare), Median(bus));
await host.StopAsync();
Console.WriteLine($"median: bare AWSSDK loop {bareMedian:N0} msg/s, event bus {busMedian:N0} msg/s, ratio {busMedian / bareMedian:P0} " +
    $"(target: at least 80%; load average {LoadAverage()})");
return 0;

async Task<double> BareLoopAsync(int count)
{
    var url = (await sqs.CreateQueueAsync($"bench-bare-{Guid.NewGuid():N}")).QueueUrl;
    var handled = 0;
    var clock = Stopwatch.StartNew();
    var producers = Enumerable.Range(0, Concurrency).Select(p => Task.Run(async () =>
    {
        for (var i = p; i < count; i += Concurrency)
        {
            await sqs.SendMessageAsync(url, $$"""{"number":{{i}}}""");
        }
    }));
    var consumers = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
    {
        while (Volatile.Read(ref handled) < count)
        {
            var received = (await sqs.ReceiveMessageAsync(
                new ReceiveMessageRequest { QueueUrl = url, MaxNumberOfMessages = 10, WaitTimeSeconds = 1 })).Messages ?? [];
            if (received.Count == 0)
            {
                continue;
            }
            await sqs.DeleteMessageBatchAsync(
                url, received.Select((m, i) => new DeleteMessageBatchRequestEntry(i.ToString(CultureInfo.InvariantCulture), m.ReceiptHandle)).ToList());
            Interlocked.Add(ref handled, received.Count);
        }
    }));
    await Task.WhenAll(producers.Concat(consumers));
    return count / clock.Elapsed.TotalSeconds;
}

async Task<double> BusAsync(int count)
{
    counter.Reset(count);
    var clock = Stopwatch.StartNew();
    var producers = Enumerable.Range(0, Concurrency).Select(p => Task.Run(async () =>
    {
        for (var i = p; i < count; i += Concurrency)
        {
            await publisher.PublishAsync(new BenchMessage(i));
        }
    }));
    await Task.WhenAll(producers);
    await counter.Done.Task;
    return count / clock.Elapsed.TotalSeconds;
}

static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

int Option(string name, int fallback) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;

public sealed record BenchMessage(int Number);

/// <summary>Counts handled messages and signals when the expected number arrived.</summary>
public sealed class HandledCounter
{
    private int _expected;
    private int _handled;

    public TaskCompletionSource Done { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Reset(int expected)
    {
        (_expected, _handled) = (expected, 0);
        Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Handled()
    {
        if (Interlocked.Increment(ref _handled) >= _expected)
        {
            Done.TrySetResult();
        }
    }
}

public sealed class CountingHandler(HandledCounter counter) : IIntegrationEventHandler<BenchMessage>
{
    public Task HandleAsync(BenchMessage message, MessageContext context, CancellationToken cancellationToken)
    {
        counter.Handled();
        return Task.CompletedTask;
    }
}
