using Pipeline.Storage.Runs;

namespace Pipeline.Storage.Tests;

/// <summary>The pipeline-runs table (dynalite over HTTP): one record per batch, guarded by the manifest's ETag.</summary>
public class PipelineRunStoreTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task A_run_goes_through_its_stages_and_a_second_submission_is_already_processed()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var clock = new Clock(T0);
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, clock);
        var batch = $"b-{Guid.NewGuid():N}";

        var (start, _) = await runs.BeginAsync(batch, $"data/{batch}/manifest_{batch}.json", "etag-1", "cli", CancellationToken.None);
        Assert.Equal(RunStart.Started, start);
        Assert.Equal(RunStart.InProgress, (await runs.BeginAsync(batch, "ignored", "etag-1", "s3-event", CancellationToken.None)).Start);

        clock.Now = T0.AddSeconds(2);
        await runs.RecordStageAsync(batch, "etag-1", "validate",
            new StageRecord("Succeeded", T0, T0.AddSeconds(2), new Dictionary<string, long> { ["orders"] = 9000, ["order_items"] = 27007 }), CancellationToken.None);
        await runs.FinishAsync(batch, "etag-1", RunStatus.Succeeded, "9000 orders folded into 31 days", CancellationToken.None);

        var run = (await runs.GetAsync(batch, CancellationToken.None))!;
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal("validate", run.CurrentStage);
        Assert.Equal(27007, run.Stages["validate"].Counts["order_items"]);
        Assert.Equal(T0.AddSeconds(2), run.FinishedAt);
        Assert.Equal("9000 orders folded into 31 days", run.Summary);
        Assert.Equal(RunStart.AlreadyProcessed, (await runs.BeginAsync(batch, "ignored", "etag-1", "cli", CancellationToken.None)).Start);
    }

    [Fact]
    public async Task A_new_upload_under_the_same_name_starts_afresh_and_stale_updates_are_dropped()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, new Clock(T0));
        var batch = $"b-{Guid.NewGuid():N}";
        await runs.BeginAsync(batch, "k", "etag-old", "cli", CancellationToken.None);

        Assert.Equal(RunStart.Started, (await runs.BeginAsync(batch, "k", "etag-new", "cli", CancellationToken.None)).Start);
        await runs.FinishAsync(batch, "etag-old", RunStatus.Failed, "stale", CancellationToken.None);

        var run = (await runs.GetAsync(batch, CancellationToken.None))!;
        Assert.Equal(("etag-new", RunStatus.Running, (string?)null), (run.ManifestETag, run.Status, run.Summary));
    }

    [Fact]
    public async Task Runs_without_progress_past_the_cutoff_are_found_as_stalled()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var clock = new Clock(T0.AddYears(-1));
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, clock);
        var stalled = $"stalled-{Guid.NewGuid():N}";
        var finished = $"finished-{Guid.NewGuid():N}";
        await runs.BeginAsync(stalled, "k", "e", "cli", CancellationToken.None);
        await runs.BeginAsync(finished, "k", "e", "cli", CancellationToken.None);
        await runs.FinishAsync(finished, "e", RunStatus.Succeeded, "done", CancellationToken.None);

        var found = await runs.FindStalledAsync(T0.AddYears(-1).AddMinutes(5), CancellationToken.None);

        Assert.Contains(found, r => r.BatchId == stalled);
        Assert.DoesNotContain(found, r => r.BatchId == finished);
    }

    [Fact]
    public async Task The_most_recent_runs_come_newest_first_and_no_more_than_asked()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        // Later than every other test's runs in this table, so these three are the most recent.
        var t0 = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var clock = new Clock(t0);
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, clock);
        var prefix = $"r-{Guid.NewGuid():N}-";
        // Submitted out of name order, so sorting by name would give another answer.
        foreach (var (batch, minutes) in new[] { ("b", 0), ("c", 2), ("a", 1) })
        {
            clock.Now = t0.AddMinutes(minutes);
            await runs.BeginAsync(prefix + batch, $"data/{prefix}{batch}/manifest_{prefix}{batch}.json", "etag", "cli", CancellationToken.None);
        }

        Assert.Equal([prefix + "c", prefix + "a"], (await runs.ListRecentAsync(2, CancellationToken.None)).Select(r => r.BatchId));
        Assert.Equal([prefix + "c", prefix + "a", prefix + "b"], (await runs.ListRecentAsync(3, CancellationToken.None)).Select(r => r.BatchId));
    }
}
