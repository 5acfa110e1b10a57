using Amazon.Runtime;
using Amazon.SQS.Model;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Aws.Sns;
using EventBus;
using EventBus.AwsSqs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Runs;
using Pipeline.Testing;
using Pipeline.Topology;
using ServiceDefaults.Aws;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>
/// The real AppHost in emulator mode (fauxqs and dynalite on their own ports, every service healthy), with the
/// clients a user of <c>pipeline submit</c> would have: upload, publish, read alerts and run records.
/// </summary>
internal sealed class RunningPipeline : IAsyncDisposable
{
    private static readonly string[] Services = ["validate", "transform", "compute", "notifier"];
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromMinutes(3);

    private readonly DistributedApplication _app;
    private readonly Amazon.S3.AmazonS3Client _s3;
    private readonly Amazon.SQS.AmazonSQSClient _sqs;
    private readonly Amazon.DynamoDBv2.AmazonDynamoDBClient _dynamoDb;
    private readonly IEventBus _bus;
    private readonly string _alertsInboxUrl;
    private readonly OtlpTraceReceiver _traces;

    private RunningPipeline(DistributedApplication app, OtlpTraceReceiver traces, AwsOptions aws, string alertsInboxUrl)
    {
        _app = app;
        _traces = traces;
        var credentials = new BasicAWSCredentials(Emulators.EmulatorInstallation.AccessKeyId, Emulators.EmulatorInstallation.SecretAccessKey);
        _s3 = AwsClientFactory.CreateS3(aws, credentials);
        _sqs = AwsClientFactory.CreateSqs(aws, credentials);
        _dynamoDb = AwsClientFactory.CreateDynamoDb(aws, credentials);
        _bus = SqsPublisher.Create(_sqs, SnsClient.Create(AwsClientFactory.SnsOptions(aws, credentials)), "pipeline-benchmark");
        _alertsInboxUrl = alertsInboxUrl;
        Runs = new PipelineRunStore(_dynamoDb, Topology, TimeProvider.System);
    }

    public PipelineTopology Topology { get; } = new();

    public PipelineRunStore Runs { get; }

    public static async Task<RunningPipeline> StartAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--Aws:Emulator=emulators", "--DcpPublisher:WaitForResourceCleanup=false"]);
        // The services' own logs go to the dashboard; here they would bury the figures.
        builder.Services.AddLogging(logging => logging.AddFilter("AppHost.Resources", LogLevel.Error).AddFilter("Aspire.Hosting", LogLevel.Error)
            // Health probes that time out while the services start are retried; here they would bury the figures.
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));
        // The services' spans come here (the dashboard is not started): where a batch's time went, per stage.
        var traces = OtlpTraceReceiver.Start();
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            foreach (var (name, value) in traces.ExporterEnvironment)
            {
                builder.CreateResourceBuilder(project).WithEnvironment(name, value);
            }
        }
        var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(StartupTimeout);
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceAsync("provisioner", KnownResourceStates.Finished, timeout.Token);
        await Task.WhenAll(Services.Select(s => app.ResourceNotifications.WaitForResourceHealthyAsync(s, timeout.Token)));

        var aws = new AwsOptions
        {
            Region = Emulators.EmulatorInstallation.Region,
            ServiceUrl = Loopback(app.GetEndpoint("aws-emulator", "http")),
            ServiceUrls = { ["DynamoDB"] = Loopback(app.GetEndpoint("dynamodb-emulator", "http")) },
        };
        using var sqs = AwsClientFactory.CreateSqs(
            aws, new BasicAWSCredentials(Emulators.EmulatorInstallation.AccessKeyId, Emulators.EmulatorInstallation.SecretAccessKey));
        var inbox = (await sqs.GetQueueUrlAsync(new PipelineTopology().AlertsInboxQueue.Name)).QueueUrl;
        var pipeline = new RunningPipeline(app, traces, aws, inbox);
        await pipeline.WarmUpSubmitterAsync();
        return pipeline;
    }

    /// <summary>
    /// This process's own first calls (its clients' code, its connections) are not the services' cold start: made once
    /// here on a key outside <c>data/</c>, which starts nothing.
    /// </summary>
    private async Task WarmUpSubmitterAsync()
    {
        var folder = Directory.CreateTempSubdirectory("pipeline-e2e-bench-warm-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "ping.csv"), "ping\n");
        await new S3BatchStore(_s3).UploadFileAsync(
            Topology.Bucket.Name, "bench-warm-up/ping.csv", Path.Combine(folder, "ping.csv"), progress: null, CancellationToken.None);
        await _s3.GetObjectMetadataAsync(Topology.Bucket.Name, "bench-warm-up/ping.csv");
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>What <c>pipeline submit</c> does: uploads the folder as batch <paramref name="name"/>, then publishes <see cref="BatchSubmitted"/>.</summary>
    public async Task<UploadedBatch> SubmitAsync(string folder, string name)
    {
        var uploaded = await new BatchUploader(_s3, new S3BatchStore(_s3)).UploadAsync(Topology.Bucket.Name, folder, name, null, CancellationToken.None);
        await _bus.PublishAsync(new BatchSubmitted(name, uploaded.Bucket, uploaded.ManifestKey, uploaded.ManifestETag, DateTimeOffset.UtcNow, "cli"));
        return uploaded;
    }

    /// <summary>The next alert about <paramref name="batchId"/> (alerts about other batches are dropped).</summary>
    public async Task<Alert> NextAlertAsync(string batchId, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            var received = await _sqs.ReceiveMessageAsync(
                new ReceiveMessageRequest { QueueUrl = _alertsInboxUrl, WaitTimeSeconds = 1, MaxNumberOfMessages = 10 }, deadline.Token);
            foreach (var message in received.Messages ?? [])
            {
                await _sqs.DeleteMessageAsync(_alertsInboxUrl, message.ReceiptHandle, deadline.Token);
                var alert = Alert.FromJson(message.Body);
                if (alert.BatchId == batchId)
                {
                    return alert;
                }
            }
        }
    }

    /// <summary>
    /// Prints where <paramref name="batchId"/>'s time went in each service, from its spans: the message's process span,
    /// the time covered by AWS calls (S3, DynamoDB, SQS, SNS; overlapping calls counted once) and the rest (CPU: parsing,
    /// folding, and on a cold service JIT compilation), with the slowest calls.
    /// </summary>
    public async Task ReportSpansAsync(string batchId)
    {
        IReadOnlyList<ReceivedSpan> spans;
        try
        {
            spans = await _traces.WaitForAsync(all => all.Any(s => s["pipeline.batch.id"] == batchId && s.Name == "compute batch"),
                TimeSpan.FromSeconds(15), $"the spans of {batchId}");
            await Task.Delay(TimeSpan.FromSeconds(1)); // the notifier's, and the last calls of each stage
            spans = _traces.Spans.ToList();
        }
        catch (TimeoutException)
        {
            Console.WriteLine($"  (no spans of {batchId} arrived)");
            return;
        }
        var byId = spans.GroupBy(s => (s.TraceId, s.SpanId)).ToDictionary(g => g.Key, g => g.First());
        bool IsCall(ReceivedSpan s) => s.Scope is "Amazon.AWSSDK" or "Aws.Sns" or "System.Net.Http";
        bool UnderCall(ReceivedSpan s) => s.ParentSpanId is { } parent && byId.TryGetValue((s.TraceId, parent), out var p) && (IsCall(p) || UnderCall(p));
        foreach (var stage in spans.Where(s => s["pipeline.batch.id"] == batchId && s.Name.EndsWith(" batch", StringComparison.Ordinal)).OrderBy(s => s.Start))
        {
            var outer = stage.ParentSpanId is { } parentId && byId.TryGetValue((stage.TraceId, parentId), out var process) && process.Service == stage.Service
                ? process
                : stage;
            var calls = spans.Where(s => s.TraceId == stage.TraceId && s.Service == stage.Service && IsCall(s) && !UnderCall(s)
                && s.Start >= outer.Start && s.End <= outer.End).OrderBy(s => s.Start).ToList();
            var covered = TimeSpan.Zero;
            var until = DateTimeOffset.MinValue;
            foreach (var call in calls)
            {
                var from = call.Start > until ? call.Start : until;
                if (call.End > from)
                {
                    covered += call.End - from;
                    until = call.End;
                }
            }
            var slowest = string.Join(", ", calls.OrderByDescending(c => c.Duration).Take(3).Select(c => $"{c.Name} {c.Duration.TotalMilliseconds:F0} ms"));
            // From the start of the publish that sent the message to the start of its processing: the hop itself.
            var hop = outer.ParentSpanId is { } publishId && byId.TryGetValue((outer.TraceId, publishId), out var publish) && publish.Service != outer.Service
                ? $"; {(outer.Start - publish.Start).TotalMilliseconds:F0} ms from its publish in {publish.Service}" : "";
            Console.WriteLine($"    {stage.Service}: {outer.Name} {outer.Duration.TotalMilliseconds:F0} ms: " +
                $"{calls.Count} AWS calls covering {covered.TotalMilliseconds:F0} ms " +
                $"(slowest {slowest}); the rest {(outer.Duration - covered).TotalMilliseconds:F0} ms{hop}");
            var byOperation = calls.GroupBy(c => c.Name).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal);
            Console.WriteLine($"      calls: {string.Join(", ", byOperation.Select(g => $"{g.Key} {g.Count()}"))}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _traces.DisposeAsync();
        _s3.Dispose();
        _sqs.Dispose();
        _dynamoDb.Dispose();
        await _app.DisposeAsync();
    }

    private static Uri Loopback(Uri endpoint) => new UriBuilder(endpoint) { Host = "127.0.0.1" }.Uri;
}
