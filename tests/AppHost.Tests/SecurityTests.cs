using Amazon.SQS.Model;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Storage.Runs;

namespace AppHost.Tests;

/// <summary>
/// Messages made to look like the pipeline's own, by anyone who can publish on its topics or send to its queues (see
/// docs/security.md): none can fold another batch's data into a batch, or make a service read or write another bucket.
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class SecurityTests(EmulatorAppFixture app) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task Forged_stage_messages_naming_another_batchs_data_or_another_bucket_are_refused_and_the_kpis_stay_exact()
    {
        var victim = PipelineDriver.Generate(120, new DateOnly(2016, 4, 1), seed: 71, days: 2);
        await _pipeline.SubmitAsync(victim, "victim");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("victim")).Status);
        var victimsData = await _pipeline.KeysUnderAsync("transformed/victim/v1/");
        var runs = _pipeline.Runs(TimeProvider.System);
        var bucket = _pipeline.Topology.Bucket.Name;
        foreach (var thief in new[] { "thief-data", "thief-bucket", "thief-validated", "thief-content" })
        {
            await runs.BeginUploadAsync(new UploadStart(thief, $"data/{thief}/manifest_{thief}.json", "etag", $"content-{thief}", null, "tests",
                DateTimeOffset.UtcNow, Guid.NewGuid().ToString()), CancellationToken.None);
        }

        // Another batch's enriched files, named as this version's: its data would be counted twice.
        await _pipeline.Bus.PublishAsync(new BatchTransformed("thief-data", bucket, "data/thief-data/manifest_thief-data.json", 1, "transformed/thief-data/v1/",
            victimsData, 120, 300, DateTimeOffset.UtcNow));
        await _pipeline.Bus.PublishAsync(new BatchTransformed("thief-bucket", "elsewhere", "data/thief-bucket/manifest_thief-bucket.json", 1,
            "transformed/thief-bucket/v1/", ["transformed/thief-bucket/v1/orders/p1.pen"], 1, 1, DateTimeOffset.UtcNow));
        await _pipeline.Bus.PublishAsync(new BatchValidated("thief-validated", "elsewhere", "data/thief-validated/manifest_thief-validated.json", 1,
            "content-thief-validated", "r", 1, 1, 1, DateTimeOffset.UtcNow));
        await _pipeline.Bus.PublishAsync(new BatchValidated("thief-content", bucket, "data/thief-content/manifest_thief-content.json", 1,
            "content-of-another-upload", "r", 1, 1, 1, DateTimeOffset.UtcNow));

        var compute = _pipeline.Topology.ComputeQueue;
        var transform = _pipeline.Topology.TransformQueue;
        foreach (var (thief, queue, reason) in new[]
                 {
                     ("thief-data", compute, "BatchTransformed.dataKeys is invalid: 'transformed/victim/v1/"),
                     ("thief-bucket", compute, "BatchTransformed.bucket is invalid: elsewhere is not the pipeline's bucket"),
                     ("thief-validated", transform, "BatchValidated.bucket is invalid: elsewhere is not the pipeline's bucket"),
                     ("thief-content", transform, "names content content-of-another-upload, but the version's is content-thief-content"),
                 })
        {
            var alert = await _pipeline.NextAlertAsync(thief);
            Assert.Equal(AlertStatus.Failed, alert.Status);
            Assert.Contains("PoisonMessageException", alert.Summary);
            Assert.Contains(reason, alert.Summary);
            await _pipeline.DeleteDeadLettersAsync(queue, thief);
        }
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(victim));
        Assert.Equal(victimsData, await _pipeline.KeysUnderAsync("transformed/victim/v1/"));
    }

    [Fact]
    public async Task An_s3_event_from_another_bucket_starts_nothing_and_is_reported_naming_the_bucket()
    {
        var queue = (await _pipeline.Sqs.GetQueueUrlAsync(_pipeline.Topology.ManifestEventsQueue.Name)).QueueUrl;

        await _pipeline.Sqs.SendMessageAsync(new SendMessageRequest(queue, """
            {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
              "s3":{"bucket":{"name":"someone-elses-bucket"},"object":{"key":"data/other-bucket/manifest_other-bucket.json","eTag":"0123"}}}]}
            """));
        var alert = await _pipeline.NextAlertAsync("other-bucket");

        Assert.Equal(AlertStatus.Failed, alert.Status);
        Assert.Contains("BatchSubmitted.bucket is invalid: someone-elses-bucket is not the pipeline's bucket", alert.Summary);
        await _pipeline.DeleteDeadLettersAsync(_pipeline.Topology.ManifestEventsQueue, "other-bucket");
        Assert.Null(await _pipeline.Runs(TimeProvider.System).GetHistoryAsync("other-bucket", CancellationToken.None));
    }
}
