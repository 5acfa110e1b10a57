using Amazon.S3.Model;
using Amazon.SQS;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.Validation;
using Pipeline.Storage.Batches;

namespace AppHost.Tests;

/// <summary>
/// Batches and messages beyond the limits, through the running pipeline with its default limits: a batch is rejected
/// with an alert naming the limit and its rule, a message is refused at once naming the field or the size; nothing
/// crashes and nothing is retried.
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class LimitTests(EmulatorAppFixture app) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task A_manifest_listing_more_files_than_the_limit_is_rejected_before_any_is_looked_for_and_the_alert_names_the_limit()
    {
        // 600 parts that were never uploaded: had one been looked for, the rejection would say it is missing.
        var manifest = new BatchManifest("too-many", [.. Enumerable.Range(1, 600).Select(i => $"orders_part{i}.csv")], ["order_items.csv"], null);
        await PutManifestAsync("too-many", manifest.ToJson());

        await _pipeline.Bus.PublishAsync(new BatchSubmitted(null, _pipeline.Topology.Bucket.Name, BatchLayout.ManifestKey("too-many")));
        var alert = await _pipeline.NextAlertAsync("too-many");

        Assert.Equal((AlertStatus.Rejected, (int?)1), (alert.Status, alert.Version));
        Assert.Contains($"[{ValidationRule.TooManyFiles}]", alert.Summary);
        Assert.Contains("The batch lists 602 files; at most 500 are allowed (Pipeline:Limits:MaxFiles)", alert.Summary);
        Assert.Contains("errors/too-many/v1/manifest_too-many.json", await _pipeline.KeysUnderAsync("errors/too-many/v1/"));
    }

    [Fact]
    public async Task A_products_file_with_more_categories_than_the_limit_is_rejected_at_the_first_one_too_many()
    {
        var folder = PipelineDriver.Generate(100, new DateOnly(2017, 5, 1), seed: 61, days: 2);
        var products = Path.Combine(folder, "products.csv");
        var lines = File.ReadAllLines(products);
        // Every product a category of its own: 500 products, 200 categories allowed.
        File.WriteAllLines(products, lines.Take(1).Concat(lines.Skip(1).Select((line, i) =>
            string.Join(',', line.Split(',').Select((field, column) => column == 3 ? $"Category {i + 1}" : field)))));

        await _pipeline.SubmitAsync(folder, "categories");
        var alert = await _pipeline.NextAlertAsync("categories");

        Assert.Equal(AlertStatus.Rejected, alert.Status);
        Assert.Contains($"products.csv line 202 column category: [{ValidationRule.TooManyCategories}]", alert.Summary);
        Assert.Contains("at most 200 are allowed (Pipeline:Limits:MaxCategories)", alert.Summary);
    }

    [Theory]
    [InlineData("BatchSubmitted", "source", 5_000, "BatchSubmitted.source is 5,000 characters long; at most 200 are allowed")]
    [InlineData("BatchSubmitted", "manifestETag", 300, "BatchSubmitted.manifestETag is 300 characters long; at most 100 are allowed")]
    [InlineData("BatchRetractionRequested", "reason", 20_000, "BatchRetractionRequested.reason is 20,000 characters long; at most 1,000 are allowed")]
    public async Task A_message_with_a_field_longer_than_the_contract_allows_is_refused_at_once_naming_the_field(
        string type, string field, int length, string reason)
    {
        var batch = $"long-{field.ToLowerInvariant()}";
        var fields = $$"""
            "batchId":"{{batch}}","{{field}}":"{{new string('x', length)}}"
            """;
        if (type == nameof(BatchSubmitted))
        {
            await _pipeline.PublishForeignAsync<BatchSubmitted>(
                $$"""{"bucket":"{{_pipeline.Topology.Bucket.Name}}","manifestKey":"{{BatchLayout.ManifestKey(batch)}}",{{fields}}}""");
        }
        else
        {
            await _pipeline.PublishForeignAsync<BatchRetractionRequested>($$"""{{{fields}}}""");
        }

        var alert = await _pipeline.NextAlertAsync(batch);

        Assert.Equal(AlertStatus.Failed, alert.Status);
        Assert.Contains("PoisonMessageException", alert.Summary);
        Assert.Contains(reason, alert.Summary);
        await _pipeline.DeleteDeadLettersAsync(type == nameof(BatchSubmitted) ? _pipeline.Topology.ValidateQueue : _pipeline.Topology.ComputeQueue, batch);
    }

    [Fact]
    public async Task A_message_larger_than_the_topics_deliver_is_refused_by_the_queue_to_its_sender()
    {
        var queue = (await _pipeline.Sqs.GetQueueUrlAsync(_pipeline.Topology.ValidateQueue.Name)).QueueUrl;

        var refused = await Assert.ThrowsAnyAsync<AmazonSQSException>(() => _pipeline.Sqs.SendMessageAsync(queue, new string('x', 300_000)));

        Assert.Contains("262144", refused.Message);
    }

    private Task PutManifestAsync(string batch, byte[] manifest) =>
        _pipeline.S3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _pipeline.Topology.Bucket.Name,
            Key = BatchLayout.ManifestKey(batch),
            InputStream = new MemoryStream(manifest),
        });
}
