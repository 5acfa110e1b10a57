using Pipeline.Storage.Runs;
using Xunit.Abstractions;

namespace Pipeline.Storage.Tests;

/// <summary>
/// The runs table as it grows (dynalite over HTTP, a table of this class's own): what the failure watcher and the
/// dashboard read each round costs the same requests and capacity with a hundred runs as with thousands more closed ones.
/// </summary>
public class RunsTableScaleTests(LocalAwsFixture aws, ITestOutputHelper output) : IClassFixture<LocalAwsFixture>
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan StallTimeout = TimeSpan.FromMinutes(15);
    private const int OverviewCount = 50;

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task A_watcher_round_and_the_runs_overview_cost_the_same_requests_and_capacity_as_closed_runs_pile_up()
    {
        var requests = new DynamoRequestCounter();
        using var dynamoDb = aws.CreateDynamoDb(config => config.HttpClientFactory = requests);
        var clock = new Clock(T0);
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, clock);
        var none = CancellationToken.None;

        // 100 runs: 90 succeeded, 4 running, 3 failed and not announced, 3 failed and announced.
        await AddClosedAsync(runs, "early", 90, T0, none);
        foreach (var i in Enumerable.Range(0, 10))
        {
            await runs.BeginUploadAsync(Upload($"open-{i:D4}", T0.AddMinutes(1).AddSeconds(i)), none);
        }
        foreach (var i in Enumerable.Range(4, 6))
        {
            await runs.FailAsync($"open-{i:D4}", 1, "dead letter", null, none);
        }
        clock.Now = T0.AddMinutes(2);
        foreach (var i in Enumerable.Range(7, 3))
        {
            await runs.RecordNotifiedAsync($"open-{i:D4}", 1,
                new StageRecord(StageStatus.Succeeded, clock.Now, clock.Now, new Dictionary<string, long>()), none);
        }
        clock.Now = T0.AddHours(1); // the four running ones have stalled

        var small = await MeasureAsync(runs, requests, clock, "100 runs");

        await AddClosedAsync(runs, "later", 3_000, T0.AddDays(1), none);
        var large = await MeasureAsync(runs, requests, clock, "3,100 runs");

        Assert.Equal((small.Watcher.Requests, small.Overview.Requests), (large.Watcher.Requests, large.Overview.Requests));
        Assert.Equal(small.Watcher.Capacity, large.Watcher.Capacity);
        Assert.Equal(small.Overview.Capacity, large.Overview.Capacity);
        // Two index queries and one consistent read per failure to announce; two index queries for the overview.
        Assert.Equal("GetItem 3, Query 2", small.Watcher.Requests);
        Assert.Equal("Query 2", small.Overview.Requests);
        Assert.Equal([0, 1, 2, 3], small.Stalled);
        Assert.Equal([4, 5, 6], small.Unannounced);
        Assert.Equal(small.Stalled, large.Stalled);
        Assert.Equal(small.Unannounced, large.Unannounced);
        Assert.Equal(Enumerable.Range(0, OverviewCount).Select(i => $"later-{3_000 - 1 - i:D4}"), large.Recent);
    }

    [Fact]
    public async Task A_batch_name_uploaded_a_thousand_times_ends_with_its_last_version_in_force_and_every_item_small()
    {
        const int Versions = 1_000;
        var requests = new DynamoRequestCounter();
        using var dynamoDb = aws.CreateDynamoDb(config => config.HttpClientFactory = requests);
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, TimeProvider.System);
        var batch = $"again-{Guid.NewGuid():N}";
        var none = CancellationToken.None;
        var foldReads = new List<int>();

        for (var version = 1; version <= Versions; version++)
        {
            var upload = Upload(batch, T0.AddMinutes(version)) with
            {
                ContentId = $"content-{version}",
                ManifestETag = $"etag-{version}",
                MessageId = $"m-{version}",
            };
            var begun = await runs.BeginUploadAsync(upload, none);
            Assert.Equal((RunBeginKind.Started, version), (begun.Kind, begun.Run.Version));
            // Each version also has a submission that came too late (its manifest already replaced).
            await runs.RecordSupersededAsync(batch, new SupersededAnnouncement($"late-{version}", "s3-event", T0, T0.AddMinutes(version)), none);
            requests.Clear();
            var replaced = await runs.RecordFoldAsync(batch, version, version, RunStatus.Replaced, none);
            foldReads.Add(requests.ItemsRead);
            Assert.Equal(version == 1 ? [] : [version - 1], replaced!.Select(r => r.Version));
            Assert.Equal(TransitionResult.Won, await runs.SucceedAsync(batch, version, "Folded in.", Stages.Compute,
                new StageRecord(StageStatus.Succeeded, T0, T0, new Dictionary<string, long>()), none));
        }

        requests.Clear();
        var history = (await runs.GetHistoryAsync(batch, none))!;
        output.WriteLine($"{Versions} versions of one name: the largest item read back or written is {requests.LargestItemBytes:N0} bytes of JSON "
            + $"(DynamoDB's limit: 409,600); recording a fold read {foldReads.Min()}-{foldReads.Max()} items, {foldReads[^1]} for the last");
        Assert.Equal((Versions, Versions, Versions), (history.LatestVersion, history.AppliedVersion, history.InForce!.Version));
        Assert.All(history.Versions.Take(Versions - 1), v => Assert.Equal((RunStatus.Replaced, v.Version + 1), (v.Status, v.ChangedBy)));
        Assert.Equal(50, history.Superseded.Count);
        Assert.InRange(requests.LargestItemBytes, 1, 40_000);
        // The head, the version taken over, this version and the items it changed: the same for the thousandth as for the second.
        Assert.Equal(foldReads[1], foldReads[^1]);

        requests.Clear();
        var page = (await runs.GetRecentHistoryAsync(batch, 50, none))!;
        Assert.Equal((Versions, Versions), (page.LatestVersion, page.InForce!.Version));
        Assert.Equal(Enumerable.Range(Versions - 49, 50), page.Versions.Select(v => v.Version));
        Assert.Equal(52, requests.ItemsRead); // the 51 newest items (one more, for the head of a shorter history), then the head
    }

    private sealed record Cost(string Requests, double Capacity);

    private sealed record Round(Cost Watcher, Cost Overview, IReadOnlyList<int> Stalled, IReadOnlyList<int> Unannounced, IReadOnlyList<string> Recent);

    /// <summary>What one failure-watcher round and one runs overview read of the runs table, and what they found.</summary>
    private async Task<Round> MeasureAsync(PipelineRunStore runs, DynamoRequestCounter requests, Clock clock, string size)
    {
        requests.Clear();
        var stalled = await runs.FindStalledAsync(clock.Now - StallTimeout, CancellationToken.None);
        var unannounced = await runs.FindUnannouncedFailuresAsync(CancellationToken.None);
        var watcher = new Cost(requests.Describe(), requests.CapacityUnits);
        output.WriteLine($"{size}: a failure-watcher round: {requests}");

        requests.Clear();
        var recent = await runs.ListRecentAsync(OverviewCount, CancellationToken.None);
        await runs.ListRunningAsync(CancellationToken.None);
        var overview = new Cost(requests.Describe(), requests.CapacityUnits);
        output.WriteLine($"{size}: the runs overview ({OverviewCount} newest and the running ones): {requests}");

        static List<int> Numbers(IEnumerable<PipelineRun> found) => found.Select(r => int.Parse(r.BatchId[5..])).Order().ToList();
        return new Round(watcher, overview, Numbers(stalled), Numbers(unannounced), recent.Select(r => r.BatchId).ToList());
    }

    /// <summary><paramref name="count"/> versions taken up and succeeded, one a second from <paramref name="from"/> (eight at a time).</summary>
    private static async Task AddClosedAsync(PipelineRunStore runs, string prefix, int count, DateTimeOffset from, CancellationToken cancellationToken) =>
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var batch = $"{prefix}-{i:D4}";
                await runs.BeginUploadAsync(Upload(batch, from.AddSeconds(i)), ct);
                Assert.Equal(TransitionResult.Won, await runs.SucceedAsync(batch, 1, "Folded in.", Stages.Compute,
                    new StageRecord(StageStatus.Succeeded, from, from, new Dictionary<string, long>()), ct));
            });

    private static UploadStart Upload(string batch, DateTimeOffset submittedAt) =>
        new(batch, $"data/{batch}/manifest_{batch}.json", $"etag-{batch}", $"content-{batch}", null, "cli", submittedAt, $"message-{batch}");
}
