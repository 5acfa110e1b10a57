using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Amazon.SQS;
using Amazon.SQS.Model;
using Aws.Sns;
using Pipeline.Topology;

namespace Reliability.Tests.Chaos;

/// <summary>
/// Duplicates and disorder: a queue of the test's own hears the stage messages (BatchSubmitted, BatchValidated,
/// BatchTransformed, BatchRetractionRequested) as the services do, and a share of them is published again on its topic
/// after a random delay — so they arrive twice, and late, after messages of other batches. Half the copies keep the
/// message id (a redelivery), half get a new one (a second announcement of the same thing); a retraction request is
/// only ever redelivered, since a new one is a new request.
/// </summary>
public sealed class MessageTap(IAmazonSQS sqs, SnsClient sns, PipelineTopology topology, int seed, double share, TimeSpan maxDelay) : IAsyncDisposable
{
    public const string QueueName = "reliability-tap";

    private readonly Random _random = new(seed);
    private readonly ConcurrentDictionary<string, byte> _seen = new();
    private readonly ConcurrentDictionary<string, long> _copies = new();
    private readonly ConcurrentDictionary<Task, byte> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _reading = Task.CompletedTask;
    private volatile bool _copying = true;

    private TopicSpec[] Tapped =>
        [topology.BatchSubmittedTopic, topology.BatchValidatedTopic, topology.BatchTransformedTopic, topology.BatchRetractionRequestedTopic];

    /// <summary>A message the tap must never copy (bad input sent on purpose: a copy would be a second dead letter).</summary>
    public void Ignore(string messageId) => _seen.TryAdd(messageId, 0);

    /// <summary>Copies published so far, by message type.</summary>
    public IReadOnlyDictionary<string, long> Copies => _copies;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var url = (await sqs.CreateQueueAsync(QueueName, cancellationToken)).QueueUrl;
        var arn = (await sqs.GetQueueAttributesAsync(url, [QueueAttributeName.QueueArn], cancellationToken)).QueueARN;
        foreach (var topic in Tapped)
        {
            var topicArn = await sns.FindTopicArnAsync(topic.Name, cancellationToken) ?? throw new InvalidOperationException($"no topic {topic.Name}");
            await sns.SubscribeAsync(
                new SubscribeRequest(topicArn, "sqs", arn) { Attributes = new Dictionary<string, string> { ["RawMessageDelivery"] = "true" } },
                cancellationToken);
        }
        _reading = Task.Run(() => ReadAsync(url, _stop.Token), CancellationToken.None);
    }

    /// <summary>No more copies are made; those scheduled are still published (see <see cref="DrainAsync"/>).</summary>
    public void StopCopying() => _copying = false;

    /// <summary>Waits until every scheduled copy has been published.</summary>
    public async Task DrainAsync()
    {
        StopCopying();
        while (!_pending.IsEmpty)
        {
            await Task.WhenAll(_pending.Keys);
        }
    }

    private async Task ReadAsync(string url, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var received = await sqs.ReceiveMessageAsync(
                    new ReceiveMessageRequest { QueueUrl = url, WaitTimeSeconds = 2, MaxNumberOfMessages = 10 }, cancellationToken);
                foreach (var message in received.Messages ?? [])
                {
                    await sqs.DeleteMessageAsync(url, message.ReceiptHandle, cancellationToken);
                    if (_copying && Copy(message.Body) is { } copy)
                    {
                        var publishing = PublishLaterAsync(copy.Topic, copy.Body, copy.Delay);
                        _pending.TryAdd(publishing, 0);
                        _ = publishing.ContinueWith(done => _pending.TryRemove(done, out _), TaskScheduler.Default);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>The copy to publish of a message heard for the first time, if it is drawn for one; null otherwise.</summary>
    private (TopicSpec Topic, string Body, TimeSpan Delay)? Copy(string body)
    {
        JsonObject envelope;
        try
        {
            envelope = JsonNode.Parse(body) as JsonObject ?? throw new System.Text.Json.JsonException("not an object");
        }
        catch (System.Text.Json.JsonException)
        {
            return null; // bad input sent on purpose: not ours to copy
        }
        var messageId = envelope["messageId"]?.GetValue<string>();
        var type = envelope["messageType"]?.AsArray().FirstOrDefault()?.GetValue<string>();
        var topic = Tapped.FirstOrDefault(t => type is not null && t.Name == type["urn:message:".Length..].Replace('.', '_').Replace(':', '-'));
        if (messageId is null || topic is null || !_seen.TryAdd(messageId, 0))
        {
            return null; // not a pipeline message, or a copy (or the original) heard before
        }
        double draw, delay, renew;
        lock (_random)
        {
            (draw, delay, renew) = (_random.NextDouble(), _random.NextDouble(), _random.NextDouble());
        }
        if (draw >= share)
        {
            return null;
        }
        if (renew < 0.5 && topic != topology.BatchRetractionRequestedTopic)
        {
            envelope["messageId"] = Guid.NewGuid().ToString();
            _seen.TryAdd(envelope["messageId"]!.GetValue<string>(), 0);
        }
        _copies.AddOrUpdate(topic.Name.Split('-')[^1], 1, (_, n) => n + 1);
        return (topic, envelope.ToJsonString(), maxDelay * delay);
    }

    private async Task PublishLaterAsync(TopicSpec topic, string body, TimeSpan delay)
    {
        await Task.Delay(delay);
        var arn = await sns.FindTopicArnAsync(topic.Name) ?? throw new InvalidOperationException($"no topic {topic.Name}");
        await sns.PublishAsync(new PublishRequest(arn, body));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading;
        _stop.Dispose();
    }
}
