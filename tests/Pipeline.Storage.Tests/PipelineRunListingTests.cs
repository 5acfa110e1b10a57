using Pipeline.Storage.Runs;

namespace Pipeline.Storage.Tests;

/// <summary>Listing the most recent runs (what <c>pipeline status</c> shows without a batch).</summary>
public class PipelineRunListingTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>
{
    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task The_most_recent_runs_come_newest_first_and_no_more_than_asked()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var t0 = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);
        var clock = new Clock(t0);
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, clock);
        // Submitted out of name order, so sorting by name would give another answer.
        foreach (var (batch, minutes) in new[] { ("b", 0), ("c", 2), ("a", 1) })
        {
            clock.Now = t0.AddMinutes(minutes);
            await runs.BeginAsync(batch, $"data/{batch}/manifest_{batch}.json", "etag", "cli", CancellationToken.None);
        }

        Assert.Equal(["c", "a"], (await runs.ListRecentAsync(2, CancellationToken.None)).Select(r => r.BatchId));
        Assert.Equal(["c", "a", "b"], (await runs.ListRecentAsync(10, CancellationToken.None)).Select(r => r.BatchId));
    }
}
