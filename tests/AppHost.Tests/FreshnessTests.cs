using System.Text.Json;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.DataQuality;
using Pipeline.Storage.DataQuality;
using Xunit.Abstractions;

namespace AppHost.Tests;

/// <summary>
/// The freshness check through the running system: a daily feed with a day missing gives one Late alert naming the day and
/// its deadline, and one Recovered alert when the day's batch arrives. The Notifier's freshness clock stands at
/// <see cref="EmulatorAppFixture.FreshnessClockStart"/> (6 January 2031, noon UTC), so 1 to 5 January are due (deadline
/// 06:00 UTC the day after) and no other test's days are in its window.
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class FreshnessTests(EmulatorAppFixture app, ITestOutputHelper output) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    private static DateOnly January(int day) => new(2031, 1, day);

    [Fact]
    public async Task A_day_missing_from_a_daily_feed_is_late_once_and_recovered_once_when_its_batch_arrives()
    {
        // A backfill of daily batches, newest first, so that the only day ever missing between the first and the last is the 4th.
        foreach (var day in new[] { 5, 3, 2, 1 })
        {
            await SubmitDayAsync(day);
        }

        var late = await _pipeline.NextAlertAsync("freshness/2031-01-04");
        output.WriteLine($"{late.Subject}\n{late.Summary}");

        Assert.Equal((AlertStatus.Late, (int?)null, "freshness/2031-01-04/late-1"), (late.Status, late.Version, late.AlertId));
        Assert.Equal("Data for 2031-01-04 is late: no accepted batch by 2031-01-05 06:00 UTC", late.Subject);
        Assert.Contains("expected by 2031-01-05 06:00 UTC", late.Summary, StringComparison.Ordinal);
        var verdicts = await VerdictsAsync(days: 5);
        Assert.Equal(
            [FreshnessStatus.OnTime, FreshnessStatus.OnTime, FreshnessStatus.OnTime, FreshnessStatus.Late, FreshnessStatus.OnTime],
            verdicts.Select(v => v.Status));
        Assert.Equal(new DateTimeOffset(2031, 1, 5, 6, 0, 0, TimeSpan.Zero), verdicts[3].Deadline);

        await SubmitDayAsync(4);
        var recovered = await _pipeline.NextAlertAsync("freshness/2031-01-04");
        output.WriteLine($"{recovered.Subject}\n{recovered.Summary}");

        Assert.Equal((AlertStatus.Recovered, "freshness/2031-01-04/recovered-1"), (recovered.Status, recovered.AlertId));
        Assert.Equal("Data for 2031-01-04 arrived: recovered after its deadline 2031-01-05 06:00 UTC", recovered.Subject);
        var day4 = (await VerdictsAsync(days: 5))[3];
        Assert.Equal((FreshnessStatus.Recovered, 1, verdicts[3].NoticedAt), (day4.Status, day4.Lapses, day4.LateNoticedAt));

        // The dashboard gives each day's freshness: the API, and the health page.
        using var dashboard = app.App.CreateHttpClient("dashboard");
        using var api = JsonDocument.Parse(await dashboard.GetStringAsync("/api/freshness?from=2031-01-01&to=2031-01-05"));
        Assert.Equal(["on_time", "on_time", "on_time", "recovered", "on_time"],
            api.RootElement.GetProperty("days").EnumerateArray().Select(d => d.GetProperty("status").GetString()));
        var day4Json = api.RootElement.GetProperty("days")[3];
        Assert.Equal(("2031-01-04", "2031-01-05T06:00:00+00:00"), (day4Json.GetProperty("day").GetString(), day4Json.GetProperty("deadline").GetString()));
        var health = await dashboard.GetStringAsync("/pipeline-health");
        Assert.Contains("data-day=\"2031-01-04\" data-freshness=\"recovered\"", health, StringComparison.Ordinal);

        // Once each: the check has run several rounds (every 2 s) since, and no day of the feed has another alert.
        await Task.Delay(TimeSpan.FromSeconds(6));
        await _pipeline.AssertNoAlertAboutAsync(Enumerable.Range(1, 5).Select(d => $"freshness/{January(d):yyyy-MM-dd}").ToArray());
        Assert.True((await VerdictsAsync(days: 5))[3].Announced);
    }

    private async Task SubmitDayAsync(int day)
    {
        var batch = $"daily-{January(day):yyyyMMdd}";
        await _pipeline.SubmitAsync(PipelineDriver.Generate(40, January(day), seed: (ulong)day, days: 1), batch);
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync(batch)).Status);
    }

    /// <summary>The verdicts of 1 to 5 January, once the check has seen <paramref name="days"/> of them (a round every 2 s).</summary>
    private async Task<IReadOnlyList<DayFreshness>> VerdictsAsync(int days)
    {
        var store = new FreshnessStore(_pipeline.DynamoDb, _pipeline.Topology);
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (true)
        {
            var verdicts = await store.ReadAsync(January(1), January(5), CancellationToken.None);
            if (verdicts.Count >= days || DateTimeOffset.UtcNow > deadline)
            {
                return verdicts;
            }
            await Task.Delay(500);
        }
    }
}
