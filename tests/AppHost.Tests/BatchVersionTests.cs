using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Storage.Runs;

namespace AppHost.Tests;

/// <summary>
/// Batches as the unit of truth, through the running system: a re-upload replaces its batch, a retraction removes it,
/// a rejected re-upload leaves the accepted one in force, and concurrent changes to the same days end exact.
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class BatchVersionTests(EmulatorAppFixture app) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task A_rejected_reupload_leaves_the_accepted_version_in_force()
    {
        var firstDay = new DateOnly(2021, 2, 1);
        var ids = PipelineDriver.NewIds();
        var accepted = PipelineDriver.Generate(300, firstDay, seed: 10, days: 4, idOffset: ids);
        await _pipeline.SubmitAsync(accepted, "kept");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("kept")).Status);

        var broken = PipelineDriver.Generate(300, firstDay, seed: 11, days: 4, idOffset: ids);
        var part = Directory.GetFiles(Path.Combine(broken, "orders")).Order().First();
        var lines = File.ReadAllLines(part);
        lines[2] = lines[2].Replace(",delivered,", ",teleported,").Replace(",returned,", ",teleported,")
            .Replace(",shipped,", ",teleported,").Replace(",pending,", ",teleported,");
        File.WriteAllLines(part, lines);
        await _pipeline.SubmitAsync(broken, "kept");

        var rejected = await _pipeline.NextAlertAsync("kept");
        Assert.Equal((AlertStatus.Rejected, (int?)2), (rejected.Status, rejected.Version));
        var history = await _pipeline.HistoryAsync("kept");
        Assert.Equal([(1, RunStatus.Succeeded), (2, RunStatus.Rejected)], history.Versions.Select(v => (v.Version, v.Status)));
        Assert.Equal(1, history.InForce!.Version);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(accepted));
        Assert.Contains("errors/kept/v2/validation.json", await _pipeline.KeysUnderAsync("errors/kept/v2/"));
    }

    [Fact]
    public async Task A_retracted_batch_leaves_the_kpis_of_the_others_alone_and_retracting_twice_changes_nothing()
    {
        var firstDay = new DateOnly(2021, 5, 1);
        var first = PipelineDriver.Generate(400, firstDay, seed: 12, days: 5);
        var second = PipelineDriver.Generate(400, firstDay.AddDays(2), seed: 13, days: 5);
        await _pipeline.SubmitAsync(first, "retract-me");
        await _pipeline.SubmitAsync(second, "stays");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("retract-me")).Status);
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("stays")).Status);

        await _pipeline.Bus.PublishAsync(new BatchRetractionRequested("retract-me", Reason: "sent by mistake", Source: "tests"));
        var retracted = await _pipeline.NextAlertAsync("retract-me");

        Assert.Equal((AlertStatus.Retracted, (int?)2), (retracted.Status, retracted.Version));
        Assert.Contains("sent by mistake", retracted.Summary);
        // The engine on the batch left alone: customers the two shared still count, those only the first had do not.
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(second));
        Assert.Empty(await _pipeline.Kpis.GetDaysAsync(firstDay, firstDay.AddDays(1), CancellationToken.None));
        Assert.Contains("retracted/retract-me/v1/manifest_retract-me.json", await _pipeline.KeysUnderAsync("retracted/retract-me/v1/"));
        Assert.Empty(await _pipeline.KeysUnderAsync("processed/retract-me/v1/"));
        var history = await _pipeline.HistoryAsync("retract-me");
        Assert.Equal(
            [(1, RunKind.Upload, RunStatus.Retracted), (2, RunKind.Retraction, RunStatus.Succeeded)],
            history.Versions.Select(v => (v.Version, v.Kind, v.Status)));
        Assert.Null(history.InForce);

        await _pipeline.Bus.PublishAsync(new BatchRetractionRequested("retract-me", Reason: "again", Source: "tests"));
        var refused = await _pipeline.NextAlertAsync("retract-me");
        Assert.Equal(AlertStatus.Rejected, refused.Status);
        Assert.Contains("retracted already", refused.Summary);
        Assert.Equal(2, (await _pipeline.HistoryAsync("retract-me")).Versions.Count);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(second));

        // Its orders are free again: the same data may come back, under the same name or another.
        await _pipeline.SubmitAsync(first, "retract-me-back");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("retract-me-back")).Status);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(first, second));
    }

    [Fact]
    public async Task A_replacement_a_new_batch_and_a_retraction_on_the_same_days_at_once_end_exact()
    {
        var firstDay = new DateOnly(2021, 8, 1);
        var ids = PipelineDriver.NewIds();
        var original = PipelineDriver.Generate(500, firstDay, seed: 14, days: 6, idOffset: ids);
        var doomed = PipelineDriver.Generate(300, firstDay, seed: 15, days: 6);
        await _pipeline.SubmitAsync(original, "raced");
        await _pipeline.SubmitAsync(doomed, "raced-doomed");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("raced")).Status);
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("raced-doomed")).Status);

        var replacement = PipelineDriver.Generate(450, firstDay.AddDays(1), seed: 16, days: 6, idOffset: ids);
        var newcomer = PipelineDriver.Generate(350, firstDay, seed: 17, days: 6);
        await Task.WhenAll(
            _pipeline.SubmitAsync(replacement, "raced"),
            _pipeline.SubmitAsync(newcomer, "raced-new"),
            _pipeline.Bus.PublishAsync(new BatchRetractionRequested("raced-doomed", Source: "tests")));

        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("raced")).Status);
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("raced-new")).Status);
        Assert.Equal(AlertStatus.Retracted, (await _pipeline.NextAlertAsync("raced-doomed")).Status);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(replacement, newcomer));
    }

    [Fact]
    public async Task A_retraction_asked_while_a_replacement_is_under_way_wins_and_the_replacement_is_superseded()
    {
        var firstDay = new DateOnly(2021, 11, 1);
        var ids = PipelineDriver.NewIds();
        await _pipeline.SubmitAsync(PipelineDriver.Generate(300, firstDay, seed: 18, days: 4, idOffset: ids), "retract-during");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("retract-during")).Status);
        var other = PipelineDriver.Generate(200, firstDay, seed: 19, days: 4);
        await _pipeline.SubmitAsync(other, "retract-during-other");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("retract-during-other")).Status);

        // The replacement is taken up (version 2) before the retraction is asked for (version 3).
        await _pipeline.SubmitAsync(PipelineDriver.Generate(300, firstDay, seed: 20, days: 4, idOffset: ids), "retract-during");
        await WaitForVersionAsync("retract-during", 2);
        await _pipeline.Bus.PublishAsync(new BatchRetractionRequested("retract-during", Source: "tests"));

        // The replacement ends superseded without an alert of its own, or succeeds first and is then retracted.
        var outcome = await _pipeline.NextAlertAsync("retract-during");
        if (outcome.Status == AlertStatus.Succeeded)
        {
            outcome = await _pipeline.NextAlertAsync("retract-during");
        }
        Assert.Equal((AlertStatus.Retracted, (int?)3), (outcome.Status, outcome.Version));
        var history = await _pipeline.HistoryAsync("retract-during");
        Assert.Null(history.InForce);
        Assert.Contains(history.Versions[1].Status, new[] { RunStatus.Superseded, RunStatus.Retracted });
        // The version taken out of force is the one named in the alert, and its files (only its) moved to retracted/.
        var retracted = Assert.Single(history.Versions, v => v.Status == RunStatus.Retracted).Version;
        Assert.Contains($"Version {retracted} of batch retract-during was retracted", outcome.Summary);
        Assert.Contains($"retracted/retract-during/v{retracted}/manifest_retract-during.json", await _pipeline.KeysUnderAsync("retracted/retract-during/"));
        Assert.Empty(await _pipeline.KeysUnderAsync($"processed/retract-during/v{retracted}/"));
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(other));
    }

    private async Task WaitForVersionAsync(string batchId, int version)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(1);
        while (((await _pipeline.Runs(TimeProvider.System).GetHistoryAsync(batchId, CancellationToken.None))?.LatestVersion ?? 0) < version)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"batch {batchId} never reached version {version}");
            await Task.Delay(50);
        }
    }
}
