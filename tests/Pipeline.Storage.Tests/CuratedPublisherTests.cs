using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Options;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Generation;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Transform;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Curated;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;
using Pipeline.Topology;

namespace Pipeline.Storage.Tests;

/// <summary>
/// <c>curated/</c> follows the version in force whatever order syncs end in (docs/pipeline.md, "Curated Parquet"): a sync
/// that began on a version replaced while it wrote ends with the new version's objects only, and a retraction's sync
/// leaves none.
/// </summary>
public sealed class CuratedPublisherTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly DateOnly FirstDay = new(2063, 3, 1);

    private string Bucket => aws.Topology.Bucket.Name;

    [Fact]
    public async Task A_sync_overtaken_by_a_replacement_ends_with_the_version_in_force_and_a_retraction_leaves_nothing()
    {
        const string batch = "curated-stale-writer";
        using var s3 = aws.CreateS3();
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, TimeProvider.System);
        var kpis = new DynamoKpiStore(dynamoDb, aws.Topology, TimeProvider.System);
        var first = await PutInForceAsync(s3, runs, kpis, batch, 1, Generate(seed: 1, days: 5));

        // The sync of version 1 has its first PUT held until version 2 (other rows, fewer days) is in force.
        var gate = new CuratedPutGate();
        using var held = HeldS3(gate);
        var syncing = Publisher(held, runs, kpis).SyncAsync(Bucket, batch, CancellationToken.None);
        await gate.Reached.WaitAsync(Patience);
        var second = await PutInForceAsync(s3, runs, kpis, batch, 2, Generate(seed: 2, days: 2));
        gate.Release();
        var sync = await syncing.WaitAsync(Patience);

        Assert.Equal((2, 2), (sync!.Version, sync.Rounds));
        Assert.Equal(ItemsByDay(second), sync.Days.ToDictionary(d => d.Day, d => d.Rows));
        Assert.True(ItemsByDay(first).Keys.Count > ItemsByDay(second).Keys.Count);
        await AssertObjectsAsync(s3, batch, ItemsByDay(second).Keys, version: 2);

        // A draft of version 1 (written while its fold ran, as Compute does) is not what a sync uploads once version 2 is in force.
        await using (var stale = Publisher(s3, runs, kpis).Draft(Bucket, batch, 1, CancellationToken.None))
        {
            var again = await Publisher(s3, runs, kpis).SyncAsync(Bucket, batch, stale, CancellationToken.None);
            Assert.Equal((2, 1), (again!.Version, again.Rounds));
        }
        await AssertObjectsAsync(s3, batch, ItemsByDay(second).Keys, version: 2);

        var retraction = await runs.BeginRetractionAsync(batch, $"data/{batch}/manifest_{batch}.json", 2, "tests", "retract", CancellationToken.None);
        var fold = await kpis.RetractAsync(batch, retraction.Run.Version, CancellationToken.None);
        await runs.RecordFoldAsync(batch, retraction.Run.Version, fold.AppliedVersion, RunStatus.Retracted, CancellationToken.None);
        var retracted = await Publisher(s3, runs, kpis).SyncAsync(Bucket, batch, CancellationToken.None);

        Assert.Equal(((int?)null, 0, DaysOf(first).Union(DaysOf(second)).Count()), (retracted!.Version, retracted.Days.Count, retracted.Deleted));
        await AssertObjectsAsync(s3, batch, [], version: 0);
    }

    private CuratedPublisher Publisher(IAmazonS3 s3, PipelineRunStore runs, DynamoKpiStore kpis) =>
        new(s3, new S3BatchStore(s3), runs, kpis, Options.Create(new CuratedOptions()));

    private AmazonS3Client HeldS3(HttpClientFactory http)
    {
        var client = aws.CreateS3();
        ((AmazonS3Config)client.Config).HttpClientFactory = http;
        return client;
    }

    private static string Generate(ulong seed, int days)
    {
        var folder = Directory.CreateTempSubdirectory("curated-publisher-").FullName;
        SyntheticBatchGenerator.Generate(folder, new GeneratorOptions(300, Parts: 2, Seed: seed, Days: days, Products: 50) { FirstDay = FirstDay });
        return folder;
    }

    /// <summary>
    /// Makes <paramref name="folder"/> version <paramref name="version"/> of the batch, in force as Compute leaves it: its
    /// enriched files under <c>transformed/</c>, its contribution folded, the run store saying it is in force.
    /// </summary>
    private async Task<KpiPartial> PutInForceAsync(AmazonS3Client s3, PipelineRunStore runs, DynamoKpiStore kpis, string batch, int version, string folder)
    {
        using var output = new EnrichedPartFiles();
        var result = new BatchProcessor().Process(LocalBatchFolder.Open(folder), output: output);
        var store = new S3BatchStore(s3);
        var transformed = BatchLayout.VersionFolder(BatchLayout.TransformedPrefix, batch, version);
        foreach (var (name, path) in output.Combine(S3BatchStore.PartSize))
        {
            await store.PutFileAsync(Bucket, transformed + name, path, null, CancellationToken.None);
        }
        Directory.Delete(folder, recursive: true);

        var begun = await runs.BeginUploadAsync(new UploadStart(batch, $"data/{batch}/manifest_{batch}.json", $"etag-{version}", $"content-{version}", null,
            "tests", DateTimeOffset.UtcNow, $"message-{version}"), CancellationToken.None);
        Assert.Equal(version, begun.Run.Version);
        var fold = await kpis.AddBatchAsync(batch, version, result.Kpis!, CancellationToken.None);
        await runs.RecordFoldAsync(batch, version, fold.AppliedVersion, RunStatus.Replaced, CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        await runs.SucceedAsync(batch, version, "in force", Stages.Compute, new StageRecord(StageStatus.Succeeded, now, now, new Dictionary<string, long>()),
            CancellationToken.None);
        return result.Kpis!;
    }

    /// <summary>The days a version's contribution summary names: its orders' and its items'.</summary>
    private static IEnumerable<DateOnly> DaysOf(KpiPartial kpis) => kpis.Days.Select(d => d.OrderDate).Union(kpis.CategoryDays.Select(c => c.OrderDate));

    private static Dictionary<DateOnly, long> ItemsByDay(KpiPartial kpis) =>
        kpis.CategoryDays.GroupBy(c => c.OrderDate).ToDictionary(g => g.Key, g => g.Sum(c => c.Items));

    /// <summary>The batch's objects under curated/ are exactly those of <paramref name="days"/>, each holding <paramref name="version"/>.</summary>
    private async Task AssertObjectsAsync(AmazonS3Client s3, string batch, IEnumerable<DateOnly> days, int version)
    {
        var listed = await new S3BatchStore(s3).ListAsync(Bucket, PipelineTopology.CuratedOrderItems.Prefix, CancellationToken.None);
        var expected = days.Order().Select(day => CuratedPublisher.KeyOf(batch, day)).ToList();
        Assert.Equal(expected, listed.Where(k => k.EndsWith($"/{batch}.parquet", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        foreach (var key in expected)
        {
            var metadata = await s3.GetObjectMetadataAsync(Bucket, key);
            Assert.Equal($"{version}", metadata.Metadata[CuratedPublisher.VersionMetadata]);
        }
    }

    /// <summary>An HTTP stack that holds the first PUT under <c>curated/</c> until released.</summary>
    private sealed class CuratedPutGate : HttpClientFactory
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _puts;

        public Task Reached => _reached.Task;

        public void Release() => _released.TrySetResult();

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Handler(this));

        private sealed class Handler(CuratedPutGate gate) : DelegatingHandler(new SocketsHttpHandler())
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (request.Method == HttpMethod.Put && request.RequestUri!.AbsolutePath.Contains("/curated/", StringComparison.Ordinal)
                    && Interlocked.Increment(ref gate._puts) == 1)
                {
                    gate._reached.TrySetResult();
                    await gate._released.Task.WaitAsync(cancellationToken);
                }
                return await base.SendAsync(request, cancellationToken);
            }
        }
    }
}
