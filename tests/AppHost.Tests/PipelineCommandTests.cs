using Amazon.SQS.Model;
using EventBus;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;

namespace AppHost.Tests;

/// <summary>The Aspire dashboard's commands, executed on the running AppHost as a click on them would.</summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class PipelineCommandTests(EmulatorAppFixture app) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    private ResourceCommandService Commands => app.App.Services.GetRequiredService<ResourceCommandService>();

    [Fact]
    public async Task Submit_sample_batch_sends_a_generated_batch_through_the_pipeline_into_the_kpis()
    {
        var result = await Commands.ExecuteCommandAsync("validate", "submit-sample-batch");

        Assert.True(result.Success, result.Message);
        var name = Assert.Single(System.Text.RegularExpressions.Regex.Matches(result.Message!, @"sample-\d{8}-\d{6}")).Value;
        var alert = await _pipeline.NextAlertAsync(name);
        Assert.Equal(AlertStatus.Succeeded, alert.Status);
        var yesterday = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1);
        Assert.NotEmpty(await _pipeline.Kpis.GetDaysAsync(yesterday.AddDays(-30), yesterday, CancellationToken.None));
        Assert.Equal("apphost", (await _pipeline.HistoryAsync(name)).Versions.Single().Source);
    }

    [Fact]
    public async Task Redrive_dead_letters_moves_a_submission_from_validates_dead_letter_queue_back_and_the_batch_is_processed()
    {
        var folder = PipelineDriver.Generate(50, new DateOnly(2018, 5, 1), seed: 31, days: 2);
        var uploaded = await new Pipeline.Storage.Batches.BatchUploader(_pipeline.S3, new Pipeline.Storage.Batches.S3BatchStore(_pipeline.S3))
            .UploadAsync(_pipeline.Topology.Bucket.Name, folder, "redriven", null, CancellationToken.None);
        var submitted = new BatchSubmitted("redriven", uploaded.Bucket, uploaded.ManifestKey, uploaded.ManifestETag, DateTimeOffset.UtcNow, "tests");
        // As if Validate had given up on it: the submission, in its envelope, waiting in the dead-letter queue.
        var deadLetters = (await _pipeline.Sqs.GetQueueUrlAsync(_pipeline.Topology.ValidateQueue.DeadLetterQueueName)).QueueUrl;
        await _pipeline.Sqs.SendMessageAsync(
            deadLetters, EnvelopeSerializer.Serialize(EnvelopeSerializer.Wrap(submitted, Guid.NewGuid(), DateTimeOffset.UtcNow)));

        // The notifier's watcher peeks at dead letters every 2 s, hiding them for a moment: a click may find none.
        ExecuteCommandResult result;
        var clicks = 0;
        do
        {
            result = await Commands.ExecuteCommandAsync("validate", "redrive-dead-letters");
            Assert.True(result.Success, result.Message);
        }
        while (!result.Message!.Contains("1 from pipeline-validate_error", StringComparison.Ordinal) && ++clicks < 10);
        Assert.Contains("1 from pipeline-validate_error", result.Message);
        // The watcher may report the dead letter before the redrive; the batch still ends succeeded.
        var alert = await _pipeline.NextAlertAsync("redriven");
        if (alert.Status == AlertStatus.Failed)
        {
            alert = await _pipeline.NextAlertAsync("redriven");
        }
        Assert.Equal(AlertStatus.Succeeded, alert.Status);
        var left = await _pipeline.Sqs.GetQueueAttributesAsync(
            new GetQueueAttributesRequest { QueueUrl = deadLetters, AttributeNames = ["ApproximateNumberOfMessages"] });
        Assert.Equal("0", left.Attributes["ApproximateNumberOfMessages"]);
    }
}
