using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Storage.Batches;

namespace AppHost.Tests;

/// <summary>
/// Another producer, speaking MassTransit's envelope, sends what the contract promises and no more: the pipeline
/// derives the rest; a message missing what it requires is refused at once, and the refusal names the field.
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class ForeignProducerTests(EmulatorAppFixture app) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task A_submission_with_only_the_bucket_and_the_manifest_key_is_processed_with_the_rest_derived()
    {
        var folder = PipelineDriver.Generate(150, new DateOnly(2018, 3, 1), seed: 40, days: 2);
        var uploaded = await new BatchUploader(_pipeline.S3, new S3BatchStore(_pipeline.S3))
            .UploadAsync(_pipeline.Topology.Bucket.Name, folder, "foreign", null, CancellationToken.None);

        await PublishEnvelopeAsync($$"""{"bucket":"{{uploaded.Bucket}}","manifestKey":"{{uploaded.ManifestKey}}"}""");
        // And the same upload announced with its ETag as S3's headers give it, quoted: the same upload, nothing more happens.
        await PublishEnvelopeAsync(
            $$"""{"bucket":"{{uploaded.Bucket}}","manifestKey":"{{uploaded.ManifestKey}}","manifestETag":"\"{{uploaded.ManifestETag}}\""}""");

        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("foreign")).Status);
        var run = Assert.Single((await _pipeline.HistoryAsync("foreign")).Versions);
        Assert.Equal("rabbitmq://producer-host/order-exporter", run.Source);
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 9, 30, 0, TimeSpan.Zero), run.SubmittedAt);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(folder));
        await _pipeline.AssertNoAlertAboutAsync("foreign");
        Assert.Empty((await _pipeline.HistoryAsync("foreign")).Superseded);
    }

    [Theory]
    [InlineData("""{"bucket":"ecommerce-pipeline-data"}""", "(unknown)", "manifestKey is missing")]
    [InlineData("""{"bucket":"elsewhere","manifestKey":"data/foreign-bucket/manifest_foreign-bucket.json"}""", "foreign-bucket", "bucket is invalid")]
    [InlineData(
        """{"bucket":"ecommerce-pipeline-data","manifestKey":"data/foreign-key/../manifest_x.json","batchId":"foreign-key"}""",
        "foreign-key",
        "manifestKey is invalid")]
    public async Task A_submission_without_a_required_field_is_dead_lettered_at_once_and_reported_naming_the_field(
        string message, string alertedBatch, string reason)
    {
        await PublishEnvelopeAsync(message);

        var alert = await _pipeline.NextAlertAsync(alertedBatch);

        Assert.Equal(AlertStatus.Failed, alert.Status);
        // Refused by the bus (a field the contract requires is absent: MessageFormatException) or by Validate (PoisonMessageException).
        Assert.Matches("(PoisonMessage|MessageFormat)Exception", alert.Summary);
        Assert.Contains(reason, alert.Summary);
    }

    private Task PublishEnvelopeAsync(string message) => _pipeline.PublishForeignAsync<BatchSubmitted>(message);
}
