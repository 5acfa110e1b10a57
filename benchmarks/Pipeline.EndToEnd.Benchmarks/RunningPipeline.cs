using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Storage.Batches;
using Pipeline.Testing;
using Pipeline.Testing.Aws;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>
/// The real AppHost in emulator mode (<see cref="EmulatorApp"/>: fauxqs and dynalite on their own ports, every service
/// healthy), its services' spans sent here, each service in <paramref name="replicas"/> instances, and with a
/// <paramref name="proxy"/> every AWS call of the services goes through it; the benchmark's own calls, as a user's, go
/// straight to the emulators (<see cref="Driver"/>). Without <paramref name="curated"/>, Compute writes no curated Parquet
/// (<c>Curated__Enabled=false</c>).
/// </summary>
internal sealed class RunningPipeline(AwsProxy? proxy, int replicas, bool curated) : TracedEmulatorApp
{
    private PipelineDriver? _driver;

    public PipelineDriver Driver => _driver ?? throw new InvalidOperationException("the app has not started");

    public static async Task<RunningPipeline> StartAsync(AwsProxy? proxy, int replicas, TimeSpan alertTimeout, bool curated)
    {
        var pipeline = new RunningPipeline(proxy, replicas, curated);
        await pipeline.StartAsync();
        pipeline._driver = new PipelineDriver(pipeline, alertTimeout);
        await pipeline.WarmUpSubmitterAsync();
        return pipeline;
    }

    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        base.Configure(builder);
        // The services' own logs are kept (EmulatorApp.Logs), and health probes that time out while the services start are
        // retried: on the console they would bury the figures.
        builder.Services.AddLogging(logging => logging.AddFilter("AppHost.Resources", LogLevel.Error).AddFilter("Aspire.Hosting", LogLevel.Error)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));
        foreach (var service in ServiceResources(builder))
        {
            proxy?.Route(service);
            if (replicas > 1)
            {
                service.WithReplicas(replicas);
            }
            if (!curated && service.Resource.Name == "compute")
            {
                service.WithEnvironment("Curated__Enabled", "false");
            }
        }
    }

    protected override Task OnProvisionedAsync(CancellationToken cancellationToken)
    {
        proxy?.SetTargets(Aws);
        return Task.CompletedTask;
    }

    /// <summary>
    /// This process's own first calls (its clients' code, its connections) are not the services' cold start: made once
    /// here on a key outside <c>data/</c>, which starts nothing.
    /// </summary>
    private async Task WarmUpSubmitterAsync()
    {
        var folder = Directory.CreateTempSubdirectory("pipeline-e2e-bench-warm-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "ping.csv"), "ping\n");
        await new S3BatchStore(Driver.S3).UploadFileAsync(
            Driver.Topology.Bucket.Name, "bench-warm-up/ping.csv", Path.Combine(folder, "ping.csv"), progress: null, CancellationToken.None);
        await Driver.S3.GetObjectMetadataAsync(Driver.Topology.Bucket.Name, "bench-warm-up/ping.csv");
        Directory.Delete(folder, recursive: true);
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
            spans = await Traces.WaitForAsync(all => all.Any(s => s["pipeline.batch.id"] == batchId && s.Name == "compute batch"),
                TimeSpan.FromSeconds(15), $"the spans of {batchId}");
            await Task.Delay(TimeSpan.FromSeconds(1)); // the notifier's, and the last calls of each stage
            spans = Traces.Spans.ToList();
        }
        catch (TimeoutException)
        {
            Console.WriteLine($"  (no spans of {batchId} arrived)");
            return;
        }
        var calls = new SpanCalls(spans);
        // Each message's span once: the Notifier's has a stage span per alert it sends.
        var stages = spans.Where(s => s["pipeline.batch.id"] == batchId && s.Name.EndsWith(" batch", StringComparison.Ordinal)).OrderBy(s => s.Start)
            .Select(calls.ProcessOf).DistinctBy(s => (s.TraceId, s.SpanId));
        foreach (var outer in stages)
        {
            var (within, sequential, covered) = calls.Within(outer);
            var slowest = string.Join(", ", within.OrderByDescending(c => c.Duration).Take(3).Select(c => $"{c.Name} {c.Duration.TotalMilliseconds:F0} ms"));
            // From the start of the publish that sent the message to the start of its processing: the hop itself.
            var hop = calls.Parent(outer) is { } publish && publish.Service != outer.Service
                ? $"; {(outer.Start - publish.Start).TotalMilliseconds:F0} ms from its publish in {publish.Service}" : "";
            Console.WriteLine($"    {outer.Service}: {outer.Name} {outer.Duration.TotalMilliseconds:F0} ms: " +
                $"{within.Count} AWS calls, {sequential} one after another, covering {covered.TotalMilliseconds:F0} ms " +
                $"(slowest {slowest}); the rest {(outer.Duration - covered).TotalMilliseconds:F0} ms{hop}");
            Console.WriteLine($"      calls: {SpanCalls.ByOperation(within)}");
        }
    }

    /// <summary>
    /// The Notifier's anomaly check of each batch (the span of its <c>KpisChangedHandler</c>) beside the same batch's
    /// Compute stage (the Compute process's span of the message, as <see cref="ReportSpansAsync"/> prints it): the check's
    /// time and AWS calls, and the stage's time. A batch whose spans did not arrive is left out.
    /// </summary>
    public async Task<IReadOnlyList<AnomalyCheckCost>> AnomalyCheckCostsAsync(IReadOnlyList<string> batchIds)
    {
        const string checkSpan = "anomaly check"; // the Notifier's KpisChangedHandler.CheckSpan
        bool Arrived(IReadOnlyList<ReceivedSpan> all, string batchId) =>
            all.Any(s => s["pipeline.batch.id"] == batchId && s.Name == checkSpan)
            && all.Any(s => s["pipeline.batch.id"] == batchId && s.Name == "compute batch");
        try
        {
            await Traces.WaitForAsync(all => batchIds.All(b => Arrived(all, b)), TimeSpan.FromSeconds(15), "the anomaly checks' spans");
            await Task.Delay(TimeSpan.FromSeconds(1)); // the checks' last calls
        }
        catch (TimeoutException)
        {
            Console.WriteLine($"  (the spans of {string.Join(", ", batchIds.Where(b => !Arrived(Traces.Spans.ToList(), b)))} did not all arrive)");
        }
        var spans = Traces.Spans.ToList();
        var calls = new SpanCalls(spans);
        return batchIds.Where(b => Arrived(spans, b)).Select(batchId =>
        {
            var check = spans.Where(s => s["pipeline.batch.id"] == batchId && s.Name == checkSpan).OrderBy(s => s.Start).First();
            var compute = calls.ProcessOf(spans.First(s => s["pipeline.batch.id"] == batchId && s.Name == "compute batch"));
            var (within, sequential, _) = calls.Within(check);
            return new AnomalyCheckCost(batchId, check.Duration, within.Count, sequential, SpanCalls.ByOperation(within), compute.Duration);
        }).ToList();
    }

    /// <summary>
    /// Each service's AWS calls since <paramref name="since"/>, from its spans, by operation, and the calls that failed by
    /// operation, error and table: a conditional write that lost a race (ConditionalCheckFailedException) is work done twice.
    /// </summary>
    public async Task ReportCallsSinceAsync(DateTimeOffset since)
    {
        await Task.Delay(TimeSpan.FromSeconds(2)); // the last spans' export
        var calls = Traces.Spans.Where(s => s.Scope == "Amazon.AWSSDK" && s.Start >= since).ToList();
        foreach (var service in calls.GroupBy(s => s.Service).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            static string Counts<T>(IEnumerable<IGrouping<T, ReceivedSpan>> groups, Func<T, string> name) =>
                string.Join(", ", groups.OrderByDescending(g => g.Count()).Select(g => $"{name(g.Key)} {g.Count():N0}"));
            var failed = service.Where(s => s["aws.error_code"] is not null).ToList();
            Console.WriteLine($"  {service.Key}: {service.Count():N0} AWS calls ({Counts(service.GroupBy(s => s.Name), n => n)}); " +
                $"failed {failed.Count:N0}{(failed.Count == 0 ? "" : ": ")}" +
                Counts(failed.GroupBy(s => (s.Name, Error: s["aws.error_code"], Table: s["aws.dynamodb.table_names"])),
                    k => $"{k.Name} {k.Error}{(k.Table is null ? "" : $" on {k.Table}")}"));
        }
    }

    protected override async ValueTask OnDisposedAsync()
    {
        _driver?.Dispose();
        await base.OnDisposedAsync();
    }
}

/// <summary>One batch's anomaly check (its time, its AWS calls: how many, how many one after another, by operation) and its Compute stage's time.</summary>
internal sealed record AnomalyCheckCost(string BatchId, TimeSpan Check, int Calls, int Sequential, string Operations, TimeSpan Compute)
{
    public double ShareOfCompute => Check / Compute;
}
