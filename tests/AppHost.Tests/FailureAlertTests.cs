using Amazon.SQS.Model;
using EventBus;
using EventBus.AwsSqs;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Storage.Runs;

namespace AppHost.Tests;

/// <summary>
/// Failures nobody announces become Failed alerts, once each: a stage that gives up (dead letter), a version that stops
/// moving, a dead letter no running version owns, however many dead letters have piled up.
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class FailureAlertTests(EmulatorAppFixture app) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    private static UploadStart Upload(string batch, string content) =>
        new(batch, $"data/{batch}/manifest_{batch}.json", $"etag-{content}", content, null, "tests", DateTimeOffset.UtcNow, Guid.NewGuid().ToString());

    [Fact]
    public async Task A_version_compute_keeps_failing_is_reported_failed_once_and_again_when_its_redrive_fails_too_and_a_newer_version_is_untouched()
    {
        var runs = _pipeline.Runs(TimeProvider.System);
        await runs.BeginUploadAsync(Upload("doomed", "c1"), CancellationToken.None);
        await runs.BeginUploadAsync(Upload("doomed", "c2"), CancellationToken.None);

        // Transformed data that does not exist: every attempt of Compute on version 1 fails, until SQS dead-letters the message.
        await _pipeline.Bus.PublishAsync(new BatchTransformed("doomed", _pipeline.Topology.Bucket.Name, "data/doomed/manifest_doomed.json", 1,
            "transformed/doomed/v1/", ["transformed/doomed/v1/orders/missing.pen"], 1, 1, DateTimeOffset.UtcNow));
        var alert = await _pipeline.NextAlertAsync("doomed");

        Assert.Equal((AlertStatus.Failed, (int?)1), (alert.Status, alert.Version));
        Assert.Contains("failed in compute", alert.Subject);
        Assert.Contains("dead-letter queue", alert.Summary);
        Assert.Contains("NoSuchKey", alert.Summary, StringComparison.OrdinalIgnoreCase);
        var history = await _pipeline.HistoryAsync("doomed");
        Assert.Equal([RunStatus.Failed, RunStatus.Running], history.Versions.Select(v => v.Status));

        // Redriven, it fails again: a second failure of the version, reported again.
        Assert.Equal(1, await new DeadLetterQueue(_pipeline.Sqs, _pipeline.Topology.ComputeQueue.Name).RedriveAsync());
        var again = await _pipeline.NextAlertAsync("doomed");
        Assert.Equal((AlertStatus.Failed, (int?)1), (again.Status, again.Version));
        Assert.NotEqual(alert.AlertId, again.AlertId);
        Assert.Equal(2, (await runs.GetAsync("doomed", 1, CancellationToken.None))!.Attempt);
        await _pipeline.AssertNoAlertAboutAsync("doomed");
    }

    [Fact]
    public async Task A_version_without_progress_for_longer_than_the_timeout_is_reported_stuck_once()
    {
        // A version whose last update is an hour old, as if its stage had died without a trace.
        var anHourAgo = new FixedClock(DateTimeOffset.UtcNow.AddHours(-1));
        var runs = _pipeline.Runs(anHourAgo);
        await runs.BeginUploadAsync(Upload("stuck", "c1"), CancellationToken.None);
        await runs.StartStageAsync("stuck", 1, Stages.Transform, CancellationToken.None);

        var alert = await _pipeline.NextAlertAsync("stuck");

        Assert.Equal(AlertStatus.Failed, alert.Status);
        Assert.Equal("Batch stuck failed in transform", alert.Subject);
        Assert.Contains("no progress", alert.Summary);
        await _pipeline.AssertNoAlertAboutAsync("stuck");
    }

    [Fact]
    public async Task Dead_letters_no_version_owns_are_reported_each_once_from_every_queue_however_many_pile_up()
    {
        // Messages dead-lettered before any version began, from the validate queue and the S3 event queue, and a pile of
        // fifteen letters in the transform dead-letter queue (more than one receive returns).
        var letters = new List<(string Queue, string Body, string Batch)>
        {
            (_pipeline.Topology.ValidateQueue.Name, Envelope(new BatchSubmitted("never-began", _pipeline.Topology.Bucket.Name,
                "data/never-began/manifest_never-began.json", null, DateTimeOffset.UtcNow, "tests")), "never-began"),
            (_pipeline.Topology.ManifestEventsQueue.Name,
                """{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"data/from-s3/manifest_from-s3.json"}}}]}""",
                "from-s3"),
        };
        letters.AddRange(Enumerable.Range(1, 15).Select(i => (_pipeline.Topology.TransformQueue.Name,
            Envelope(new BatchValidated(
                $"pile-{i}", _pipeline.Topology.Bucket.Name, $"data/pile-{i}/manifest_pile-{i}.json", 1, "c", "r", 1, 1, 1, DateTimeOffset.UtcNow)),
            $"pile-{i}")));
        foreach (var (queue, body, _) in letters)
        {
            var url = (await _pipeline.Sqs.GetQueueUrlAsync(queue + "_error")).QueueUrl;
            await _pipeline.Sqs.SendMessageAsync(new SendMessageRequest(url, body));
        }

        foreach (var (queue, _, batch) in letters)
        {
            var alert = await _pipeline.NextAlertAsync(batch);
            Assert.Equal(AlertStatus.Failed, alert.Status);
            Assert.Contains($"dead-letter queue of {queue}", alert.Summary);
        }
        await _pipeline.AssertNoAlertAboutAsync("pile-1");
    }

    [Fact]
    public async Task The_two_letters_a_move_cut_between_its_send_and_its_delete_leaves_are_reported_once()
    {
        var url = (await _pipeline.Sqs.GetQueueUrlAsync(_pipeline.Topology.ValidateQueue.DeadLetterQueueName)).QueueUrl;
        var body = Envelope(new BatchSubmitted(
            "cut-move", _pipeline.Topology.Bucket.Name, "data/cut-move/manifest_cut-move.json", null, DateTimeOffset.UtcNow, "tests"));
        var original = new Dictionary<string, MessageAttributeValue>
        {
            [DeadLetterQueue.OriginalMessageIdAttribute] = new() { DataType = "String", StringValue = Guid.NewGuid().ToString() },
        };
        await _pipeline.Sqs.SendMessageAsync(new SendMessageRequest(url, body) { MessageAttributes = original });
        await _pipeline.Sqs.SendMessageAsync(new SendMessageRequest(url, body) { MessageAttributes = original });

        Assert.Contains("dead-letter queue of pipeline-validate", (await _pipeline.NextAlertAsync("cut-move")).Summary);
        await _pipeline.AssertNoAlertAboutAsync("cut-move");
    }

    [Fact]
    public async Task A_dead_letter_with_a_field_of_the_wrong_type_is_reported_and_does_not_hold_up_the_letters_after_it()
    {
        // Bad input another producer sent: a version that is not a number. It sits in the transform queue's dead letters,
        // which the watcher reads before the compute queue's.
        var odd = """{"messageId":"6f1c0000-0000-4000-8000-000000000001","messageType":["urn:message:Pipeline.Contracts:BatchValidated"],"message":""" +
            """{"batchId":"odd-version","version":"two"}}""";
        var transformDeadLetters = (await _pipeline.Sqs.GetQueueUrlAsync(_pipeline.Topology.TransformQueue.DeadLetterQueueName)).QueueUrl;
        await _pipeline.Sqs.SendMessageAsync(new SendMessageRequest(transformDeadLetters, odd));
        var computeDeadLetters = (await _pipeline.Sqs.GetQueueUrlAsync(_pipeline.Topology.ComputeQueue.DeadLetterQueueName)).QueueUrl;
        await _pipeline.Sqs.SendMessageAsync(new SendMessageRequest(computeDeadLetters, Envelope(new BatchTransformed(
            "after-odd", _pipeline.Topology.Bucket.Name, "data/after-odd/manifest_after-odd.json", 1, "p", [], 0, 0, DateTimeOffset.UtcNow))));

        Assert.Contains("dead-letter queue of pipeline-transform", (await _pipeline.NextAlertAsync("odd-version")).Summary);
        Assert.Contains("dead-letter queue of pipeline-compute", (await _pipeline.NextAlertAsync("after-odd")).Summary);
    }

    [Fact]
    public async Task An_outcome_dead_lettered_in_the_notifiers_own_queue_still_gets_its_alert()
    {
        // What the Notifier leaves behind when SNS stayed down through all its retries.
        var url = (await _pipeline.Sqs.GetQueueUrlAsync(_pipeline.Topology.NotifierQueue.DeadLetterQueueName)).QueueUrl;
        await _pipeline.Sqs.SendMessageAsync(new SendMessageRequest(url, Envelope(new KpisUpdated(
            "alert-lost", "data/alert-lost/manifest_alert-lost.json", 1, [], [new DateOnly(2017, 1, 1)], ["Books"], 1, 1, DateTimeOffset.UtcNow))));

        var alert = await _pipeline.NextAlertAsync("alert-lost");

        Assert.Equal((AlertStatus.Succeeded, "alert-lost/v1/succeeded"), (alert.Status, alert.AlertId));
    }

    private static string Envelope<T>(T message) where T : class =>
        EnvelopeSerializer.Serialize(EnvelopeSerializer.Wrap(message, Guid.NewGuid(), DateTimeOffset.UtcNow));

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
