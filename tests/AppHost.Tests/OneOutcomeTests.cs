using Amazon.S3.Model;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Runs;

namespace AppHost.Tests;

/// <summary>Exactly one outcome per version: repeated announcements, stale submissions and shared files do not change it.</summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class OneOutcomeTests(EmulatorAppFixture app) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task An_outcome_announced_again_is_not_alerted_again()
    {
        var folder = PipelineDriver.Generate(200, new DateOnly(2020, 2, 1), seed: 30, days: 3);
        await _pipeline.SubmitAsync(folder, "announced");
        var alert = await _pipeline.NextAlertAsync("announced");
        Assert.Equal(AlertStatus.Succeeded, alert.Status);

        // What a Compute delivery that died after announcing, and was redelivered, sends again.
        await _pipeline.Bus.PublishAsync(new KpisUpdated(
            "announced", "data/announced/manifest_announced.json", 1, [], [new DateOnly(2020, 2, 1)], [], 0, 0, DateTimeOffset.UtcNow));

        await _pipeline.AssertNoAlertAboutAsync("announced");
        Assert.Equal(StageStatus.Succeeded, (await _pipeline.HistoryAsync("announced")).Versions[0].Stages[Stages.Notify].Status);
    }

    [Fact]
    public async Task A_stage_message_repeated_after_its_version_succeeded_changes_nothing()
    {
        var folder = PipelineDriver.Generate(200, new DateOnly(2020, 3, 1), seed: 35, days: 3);
        await _pipeline.SubmitAsync(folder, "repeated-stage");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("repeated-stage")).Status);
        var run = Assert.Single((await _pipeline.HistoryAsync("repeated-stage")).Versions);

        // A late copy of Validate's message: its files are archived by now, which must not read as a newer upload.
        await _pipeline.Bus.PublishAsync(new BatchValidated("repeated-stage", _pipeline.Topology.Bucket.Name, run.ManifestKey, 1, run.ContentId,
            "processed/repeated-stage/v1/validation.json", 200, 0, 0, DateTimeOffset.UtcNow));

        await _pipeline.AssertNoAlertAboutAsync("repeated-stage");
        Assert.Equal(RunStatus.Succeeded, Assert.Single((await _pipeline.HistoryAsync("repeated-stage")).Versions).Status);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(folder));
    }

    [Fact]
    public async Task A_retraction_request_delivered_again_after_a_newer_upload_leaves_that_upload_in_force()
    {
        var firstDay = new DateOnly(2020, 8, 1);
        var ids = PipelineDriver.NewIds();
        await _pipeline.SubmitAsync(PipelineDriver.Generate(150, firstDay, seed: 36, days: 2, idOffset: ids), "retracted-once");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("retracted-once")).Status);
        var request = new BatchRetractionRequested("retracted-once", Reason: "wrong day", Source: "tests");
        var messageId = Guid.NewGuid();
        await _pipeline.PublishAsAsync(messageId, request);
        Assert.Equal(AlertStatus.Retracted, (await _pipeline.NextAlertAsync("retracted-once")).Status);
        var newer = PipelineDriver.Generate(150, firstDay, seed: 37, days: 2, idOffset: ids);
        await _pipeline.SubmitAsync(newer, "retracted-once");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("retracted-once")).Status);

        // The same request once more (SQS redelivers a message whose delete was lost): it was carried out already.
        await _pipeline.PublishAsAsync(messageId, request);

        await _pipeline.AssertNoAlertAboutAsync("retracted-once");
        Assert.Equal(3, (await _pipeline.HistoryAsync("retracted-once")).InForce!.Version);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(newer));
    }

    [Fact]
    public async Task A_submission_of_an_upload_already_replaced_is_noted_as_superseded_and_changes_nothing()
    {
        var firstDay = new DateOnly(2020, 4, 1);
        var ids = PipelineDriver.NewIds();
        var old = await new BatchUploader(_pipeline.S3, new S3BatchStore(_pipeline.S3)).UploadAsync(
            _pipeline.Topology.Bucket.Name, PipelineDriver.Generate(200, firstDay, seed: 31, days: 3, idOffset: ids), "stale", null, CancellationToken.None);
        var newer = PipelineDriver.Generate(250, firstDay, seed: 32, days: 3, idOffset: ids);
        await _pipeline.SubmitAsync(newer, "stale");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("stale")).Status);

        // The first upload's announcement arrives late (an S3 event delayed, a message redelivered).
        await _pipeline.Bus.PublishAsync(new BatchSubmitted("stale", old.Bucket, old.ManifestKey, old.ManifestETag, DateTimeOffset.UtcNow, "s3-event"));

        await _pipeline.AssertNoAlertAboutAsync("stale");
        var history = await _pipeline.HistoryAsync("stale");
        Assert.Equal((1, RunStatus.Succeeded), (Assert.Single(history.Versions).Version, history.Versions[0].Status));
        Assert.Equal(old.ManifestETag, Assert.Single(history.Superseded).ManifestETag);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(newer));
    }

    [Fact]
    public async Task A_rejected_batch_never_moves_a_shared_product_master_that_other_batches_use()
    {
        var bucket = _pipeline.Topology.Bucket.Name;
        var good = PipelineDriver.Generate(150, new DateOnly(2020, 6, 1), seed: 33, days: 2);
        await _pipeline.S3.PutObjectAsync(
            new PutObjectRequest { BucketName = bucket, Key = "data/shared/products.csv", FilePath = Path.Combine(good, "products.csv") });
        var batches = new[]
        {
            ("shared-broken", PipelineDriver.Generate(150, new DateOnly(2020, 6, 1), seed: 34, days: 2), true),
            ("shared-good", good, false),
        };
        foreach (var (name, folder, broken) in batches)
        {
            if (broken)
            {
                var part = Directory.GetFiles(Path.Combine(folder, "orders")).Order().First();
                var lines = File.ReadAllLines(part);
                lines[1] = string.Join(',', lines[1].Split(',') is var f ? f.Select((v, i) => i == 3 ? "yesterday" : v) : []);
                File.WriteAllLines(part, lines);
            }
            await _pipeline.UploadWithProductsAtAsync(folder, name, "data/shared/products.csv");
            await _pipeline.Bus.PublishAsync(new BatchSubmitted(name, bucket, BatchLayout.ManifestKey(name), null, DateTimeOffset.UtcNow, "tests"));
            Assert.Equal(broken ? AlertStatus.Rejected : AlertStatus.Succeeded, (await _pipeline.NextAlertAsync(name)).Status);
            Assert.Contains("data/shared/products.csv", await _pipeline.KeysUnderAsync("data/shared/"));
        }
        Assert.Empty(await _pipeline.KeysUnderAsync("errors/shared-broken/v1/shared/"));
    }

    [Theory]
    [InlineData(true, "errors/")]
    [InlineData(false, "processed/")]
    public async Task An_archive_cut_short_is_finished_by_the_next_announcement_not_taken_for_a_new_upload(bool rejected, string archive)
    {
        var name = rejected ? "half-archived-rejected" : "half-archived-accepted";
        var folder = PipelineDriver.Generate(150, new DateOnly(2020, 9, 1), seed: 38, days: 2);
        var part = Directory.GetFiles(Path.Combine(folder, "orders")).Order().First();
        if (rejected)
        {
            var lines = File.ReadAllLines(part);
            lines[1] = string.Join(',', lines[1].Split(',').Select((v, i) => i == 2 ? "teleported" : v));
            File.WriteAllLines(part, lines);
        }
        var uploaded = await _pipeline.SubmitAsync(folder, name);
        var outcome = await _pipeline.NextAlertAsync(name);
        Assert.Equal((rejected ? AlertStatus.Rejected : AlertStatus.Succeeded, (int?)1), (outcome.Status, outcome.Version));

        // What a Validate killed half-way through moving the files leaves (a rejection's, or an identical re-upload's):
        // a part and the manifest, which moves last, still under data/.
        var bucket = _pipeline.Topology.Bucket.Name;
        foreach (var file in new[] { "orders/" + Path.GetFileName(part), $"manifest_{name}.json" })
        {
            await _pipeline.S3.CopyObjectAsync(bucket, $"{archive}{name}/v1/{file}", bucket, $"data/{name}/{file}");
            await _pipeline.S3.DeleteObjectAsync(bucket, $"{archive}{name}/v1/{file}");
        }
        await _pipeline.Bus.PublishAsync(new BatchSubmitted(name, bucket, uploaded.ManifestKey, uploaded.ManifestETag, DateTimeOffset.UtcNow, "s3-event"));

        await _pipeline.AssertNoAlertAboutAsync(name);
        Assert.Equal(1, Assert.Single((await _pipeline.HistoryAsync(name)).Versions).Version);
        Assert.Empty(await _pipeline.KeysUnderAsync($"data/{name}/"));
        Assert.Contains($"{archive}{name}/v1/manifest_{name}.json", await _pipeline.KeysUnderAsync($"{archive}{name}/v1/"));
    }

    [Fact]
    public async Task An_unreadable_upload_whose_delivery_died_before_its_verdict_is_rejected_when_that_delivery_comes_back()
    {
        // Found by the hour-long soak: two such batches began in Validate as S3 became unreachable, and their redelivered
        // messages were taken for copies of a delivery still at work and dropped; the versions stalled until reported stuck.
        const string name = "died-before-verdict";
        var bucket = _pipeline.Topology.Bucket.Name;
        var store = new S3BatchStore(_pipeline.S3);
        var uploaded = await new BatchUploader(_pipeline.S3, store)
            .UploadAsync(bucket, PipelineDriver.Generate(100, new DateOnly(2020, 10, 1), seed: 39, days: 2), name, null, CancellationToken.None);
        await _pipeline.S3.DeleteObjectAsync(bucket, (await _pipeline.KeysUnderAsync($"data/{name}/orders/"))[0]); // listed, not there: unreadable

        // The first delivery began the version and its stage, then died before the rejection was recorded.
        var messageId = Guid.NewGuid();
        var manifest = (await store.ManifestAsync(bucket, uploaded.ManifestKey, CancellationToken.None))!;
        var content = new BatchContent(uploaded.ManifestKey, manifest.ETag, []) { ManifestLastModified = manifest.LastModified };
        var runs = _pipeline.Runs(TimeProvider.System);
        await runs.BeginUploadAsync(new UploadStart(name, uploaded.ManifestKey, manifest.ETag, content.Id, content.ToJson(), "tests", DateTimeOffset.UtcNow,
            messageId.ToString()), CancellationToken.None);
        Assert.NotNull(await runs.StartStageAsync(name, 1, Stages.Validate, CancellationToken.None));

        // SQS delivers that very message again.
        await _pipeline.PublishAsAsync(
            messageId, new BatchSubmitted(name, bucket, uploaded.ManifestKey, uploaded.ManifestETag, DateTimeOffset.UtcNow, "tests"));

        var alert = await _pipeline.NextAlertAsync(name);
        Assert.Equal((AlertStatus.Rejected, (int?)1), (alert.Status, alert.Version));
        Assert.Equal(RunStatus.Rejected, Assert.Single((await _pipeline.HistoryAsync(name)).Versions).Status);
        Assert.Contains($"errors/{name}/v1/manifest_{name}.json", await _pipeline.KeysUnderAsync($"errors/{name}/v1/"));
    }
}
