using Pipeline.Contracts;
using Pipeline.Storage.Runs;
using Services.Notifier.Alerts;

namespace AppHost.Tests;

/// <summary>Failures nobody announces become Failed alerts: a stage that gives up (dead letter), a batch that stops moving.</summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class FailureAlertTests(EmulatorAppFixture app) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task A_batch_that_compute_keeps_failing_is_dead_lettered_and_reported_failed_with_the_error()
    {
        var runs = _pipeline.Runs(TimeProvider.System);
        await runs.BeginAsync("doomed", "data/doomed/manifest_doomed.json", "etag-doomed", "tests", CancellationToken.None);

        // Transformed data that does not exist: every attempt of Compute fails, until SQS dead-letters the message.
        await _pipeline.Bus.PublishAsync(new BatchTransformed("doomed", _pipeline.Topology.Bucket.Name, "data/doomed/manifest_doomed.json", "etag-doomed",
            "transformed/doomed/", ["transformed/doomed/orders/missing.pen"], 1, 1, DateTimeOffset.UtcNow));
        var alert = await _pipeline.NextAlertAsync("doomed");

        Assert.Equal(AlertStatus.Failed, alert.Status);
        Assert.Contains("failed in compute", alert.Subject);
        Assert.Contains("dead-letter queue", alert.Summary);
        Assert.Contains("NoSuchKey", alert.Summary, StringComparison.OrdinalIgnoreCase);
        var run = (await runs.GetAsync("doomed", CancellationToken.None))!;
        Assert.Equal(RunStatus.Failed, run.Status);
    }

    [Fact]
    public async Task A_batch_without_progress_for_longer_than_the_timeout_is_reported_stuck()
    {
        // A run whose last update is an hour old, as if its stage had died without a trace.
        var anHourAgo = new FixedClock(DateTimeOffset.UtcNow.AddHours(-1));
        await _pipeline.Runs(anHourAgo).BeginAsync("stuck", "data/stuck/manifest_stuck.json", "etag-stuck", "tests", CancellationToken.None);
        await _pipeline.Runs(anHourAgo).RecordStageAsync("stuck", "etag-stuck", Stages.Transform,
            new StageRecord(Stages.Running, anHourAgo.GetUtcNow(), null, new Dictionary<string, long>()), CancellationToken.None);

        var alert = await _pipeline.NextAlertAsync("stuck");

        Assert.Equal(AlertStatus.Failed, alert.Status);
        Assert.Equal("Batch stuck stuck in transform", alert.Subject);
        Assert.Contains("no progress", alert.Summary);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
