using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Topology;

namespace AppHost.Tests;

/// <summary>
/// The real AppHost with two instances of every service and of the dashboard (Aspire's replicas, as ECS runs several
/// tasks): batches, replacements and retractions on the same days at once end exact, with one alert per version, no
/// dead letter, and every dashboard instance seeing the changes.
/// </summary>
[Collection(Name)]
public sealed class ReplicasTests(ReplicasTests.ReplicatedApp app) : IClassFixture<ReplicasTests.ReplicatedApp>, IDisposable
{
    /// <summary>
    /// Its own collection, run once the others are done: ten service processes beside another AppHost's would slow both
    /// on a machine of two cores.
    /// </summary>
    public const string Name = "AppHost with replicas";

    private const int Replicas = 2;
    private const int Batches = 6;
    private static readonly DateOnly FirstDay = new(2019, 5, 1);

    /// <summary>What the dashboard's LatestAlertWatcher names the span of seeing a new alert (ChangeSeenSpan).</summary>
    private const string AlertSeenSpan = "dashboard alert seen";

    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task Batches_replacements_and_retractions_at_once_on_the_same_days_end_exact_with_one_alert_per_version()
    {
        // Six batches on the same ten days at once: every fold of a day races the other instances' (conditional writes, retried).
        var names = Enumerable.Range(1, Batches).Select(i => $"replica-{i}").ToArray();
        var ids = names.Select(_ => PipelineDriver.NewIds()).ToArray();
        var originals = names.Select((_, i) => PipelineDriver.Generate(250, FirstDay, seed: 60 + (ulong)i, days: 10, idOffset: ids[i])).ToArray();
        await Task.WhenAll(names.Select((name, i) => _pipeline.SubmitAsync(originals[i], name)));
        foreach (var name in names)
        {
            var alert = await _pipeline.NextAlertAsync(name);
            Assert.Equal((AlertStatus.Succeeded, (int?)1), (alert.Status, alert.Version));
        }
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(originals));

        // Then at once: the first three replaced (the same orders, changed, over shifted days), the next two retracted.
        var replacements = Enumerable.Range(0, 3)
            .Select(i => PipelineDriver.Generate(220, FirstDay.AddDays(2), seed: 70 + (ulong)i, days: 10, idOffset: ids[i])).ToArray();
        await Task.WhenAll([
            .. replacements.Select((folder, i) => _pipeline.SubmitAsync(folder, names[i])),
            .. names[3..5].Select(name => _pipeline.Bus.PublishAsync(new BatchRetractionRequested(name, Reason: "replicas test", Source: "tests"))),
        ]);
        foreach (var (name, expected) in names[..3].Select(n => (n, AlertStatus.Succeeded)).Concat(names[3..5].Select(n => (n, AlertStatus.Retracted))))
        {
            var alert = await _pipeline.NextAlertAsync(name);
            Assert.Equal((expected, (int?)2), (alert.Status, alert.Version));
        }

        // The engine on the versions in force: the three replacements and the batch left alone.
        var inForce = PipelineDriver.EngineKpis([.. replacements, originals[5]]);
        await _pipeline.AssertKpisEqualAsync(inForce);
        foreach (var (name, version) in names.Select((n, i) => (n, i switch { < 3 => (int?)2, < 5 => null, _ => 1 })))
        {
            Assert.Equal(version, (await _pipeline.HistoryAsync(name)).InForce?.Version);
        }
        await AssertNoDeadLettersAsync();
        await _pipeline.AssertNoAlertAboutAsync(names);
        await _pipeline.AssertKpisEqualAsync(inForce);
    }

    [Fact]
    public async Task Every_dashboard_instance_sees_an_alert()
    {
        var submitted = DateTimeOffset.UtcNow;
        await _pipeline.SubmitAsync(PipelineDriver.Generate(50, new DateOnly(2019, 9, 1), seed: 80, days: 1), "replica-seen");
        var alert = await _pipeline.NextAlertAsync("replica-seen");
        Assert.Equal(AlertStatus.Succeeded, alert.Status);

        // Each instance starts a span when it sees the alert; with one queue for the dashboard only one instance would.
        var spans = await app.Traces.WaitForAsync(
            all => SeenBy(all, alert).Count >= Replicas && all.Any(s => IsNotifyOf(s, alert)), TimeSpan.FromMinutes(1),
            $"{Replicas} dashboard instances' spans of seeing alert {alert.AlertId}, and the Notifier's that sent it");
        Assert.Equal(Replicas, SeenBy(spans, alert).Count);
        var seen = spans.Where(s => s.Name == AlertSeenSpan && s["pipeline.alert.id"] == alert.AlertId).ToList();
        Assert.All(seen, s => Assert.True(s.Start >= submitted));
        // Each sees it in the batch's trace: a child of the Notifier's span that sent it (its context is in the latest-alert item).
        var sentIn = spans.Where(s => IsNotifyOf(s, alert)).Select(s => (s.TraceId, (string?)s.SpanId)).ToHashSet();
        Assert.All(seen, s => Assert.Contains((s.TraceId, s.ParentSpanId), sentIn));
    }

    private static bool IsNotifyOf(ReceivedSpan span, Alert alert) =>
        span.Service == "notifier" && span.Name == "notify batch" && span["pipeline.batch.id"] == alert.BatchId;

    private static HashSet<string?> SeenBy(IEnumerable<ReceivedSpan> spans, Alert alert) =>
        spans.Where(s => s.Service == "dashboard" && s.Name == AlertSeenSpan && s["pipeline.alert.id"] == alert.AlertId)
            .Select(s => s["process.pid"]).ToHashSet();

    /// <summary>No service queue's dead-letter queue holds a message (waiting or being looked at).</summary>
    private async Task AssertNoDeadLettersAsync()
    {
        var topology = _pipeline.Topology;
        QueueSpec[] queues = [topology.ManifestEventsQueue, topology.ValidateQueue, topology.TransformQueue, topology.ComputeQueue, topology.NotifierQueue];
        foreach (var queue in queues)
        {
            var url = (await _pipeline.Sqs.GetQueueUrlAsync(queue.DeadLetterQueueName)).QueueUrl;
            Assert.True(await _pipeline.InQueueAsync(url) == 0, $"dead letters in {queue.DeadLetterQueueName}:\n{app.RecentServiceLogs()}");
        }
    }

    /// <summary>The AppHost on the emulators with <see cref="Replicas"/> instances of every service and of the dashboard.</summary>
    public sealed class ReplicatedApp : TracedEmulatorApp, IAsyncLifetime
    {
        protected override void Configure(IDistributedApplicationTestingBuilder builder)
        {
            base.Configure(builder);
            foreach (var project in builder.Resources.OfType<ProjectResource>().Where(r => Services.Contains(r.Name) || WebApps.Contains(r.Name)).ToList())
            {
                var service = builder.CreateResourceBuilder(project).WithReplicas(Replicas);
                if (project.Name == "notifier")
                {
                    service.WithEnvironment("Notifier__CheckInterval", "00:00:02"); // AssertNoAlertAboutAsync waits for two rounds
                }
            }
        }

        public Task InitializeAsync() => StartAsync();

        async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();
    }
}

[CollectionDefinition(ReplicasTests.Name, DisableParallelization = true)]
public sealed class ReplicasCollection;
