using Pipeline.Engine.DataQuality;
using Pipeline.Storage.DataQuality;

namespace Pipeline.Storage.Tests;

/// <summary>The freshness verdicts in the data-quality table (dynalite over HTTP): two Notifier tasks record a change once.</summary>
public class FreshnessStoreTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>
{
    private static readonly DateOnly Day = new(2029, 6, 3);
    private static readonly DateTimeOffset Deadline = new(2029, 6, 4, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Of_two_tasks_that_see_a_day_late_at_once_one_records_it_and_the_alert_is_noted_sent_only_for_the_status_it_was_for()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var store = new FreshnessStore(dynamoDb, aws.Topology);
        var late = new FreshnessChange(Day, null, FreshnessStatus.Late, Deadline);
        var noticed = Deadline.AddMinutes(2);

        var outcomes = await Task.WhenAll(
            store.ChangeAsync(late, noticed, CancellationToken.None), store.ChangeAsync(late, noticed, CancellationToken.None));

        Assert.Equal(1, outcomes.Count(won => won));
        var recorded = Assert.Single(await store.ReadAsync(Day, Day, CancellationToken.None));
        Assert.Equal(new DayFreshness(Day, FreshnessStatus.Late, Deadline, noticed, noticed, 1, Announced: false), recorded);

        // It recovers before the late alert is noted sent: noting it then leaves the recovery's alert to send.
        Assert.True(await store.ChangeAsync(new FreshnessChange(Day, FreshnessStatus.Late, FreshnessStatus.Recovered, Deadline), noticed.AddHours(1),
            CancellationToken.None));
        await store.MarkAnnouncedAsync(recorded, CancellationToken.None);
        var recovered = Assert.Single(await store.ReadAsync(Day, Day, CancellationToken.None));
        Assert.Equal((FreshnessStatus.Recovered, 1, false, (DateTimeOffset?)noticed),
            (recovered.Status, recovered.Lapses, recovered.Announced, recovered.LateNoticedAt));
        await store.MarkAnnouncedAsync(recovered, CancellationToken.None);
        Assert.True(Assert.Single(await store.ReadAsync(Day, Day, CancellationToken.None)).Announced);

        // Late again (its batch retracted): the second lapse.
        Assert.True(await store.ChangeAsync(new FreshnessChange(Day, FreshnessStatus.Recovered, FreshnessStatus.Late, Deadline), noticed.AddHours(2),
            CancellationToken.None));
        Assert.False(await store.ChangeAsync(new FreshnessChange(Day, FreshnessStatus.Recovered, FreshnessStatus.Late, Deadline), noticed.AddHours(2),
            CancellationToken.None));
        Assert.Equal(2, Assert.Single(await store.ReadAsync(Day, Day, CancellationToken.None)).Lapses);
        Assert.Equal([Day], (await store.ReadLatestAsync(1, CancellationToken.None)).Select(d => d.Day));
    }
}
