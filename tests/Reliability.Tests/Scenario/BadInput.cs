using Amazon.SQS;
using Amazon.SQS.Model;
using Aws.Sns;
using Pipeline.Topology;

namespace Reliability.Tests.Scenario;

/// <summary>A message sent on purpose that no service can handle, and the dead-letter queue it must end in.</summary>
public sealed record PoisonMessage(string Kind, string MessageId, string Body, string DeadLetterQueue);

/// <summary>
/// Bad input on the bus, as another producer (or an attacker) could send it: invalid JSON, a message type nobody
/// handles, required fields missing, a field of the wrong type, a huge body, and an S3 event that is not JSON. Each must
/// be dead-lettered at once as poison, with its reason, and reported once by the Notifier; none may stop a service.
/// </summary>
public sealed class BadInput(IAmazonSQS sqs, SnsClient sns, PipelineTopology topology)
{
    private readonly List<PoisonMessage> _sent = [];

    public IReadOnlyList<PoisonMessage> Sent
    {
        get
        {
            lock (_sent)
            {
                return [.. _sent];
            }
        }
    }

    /// <summary>Every kind of bad input, each as a message id and the send that delivers it.</summary>
    public IReadOnlyList<(string Kind, string MessageId, Func<CancellationToken, Task> Send)> All()
    {
        var bucket = topology.Bucket.Name;
        var list = new List<(string, string, Func<CancellationToken, Task>)>();
        void OnTopic(string kind, TopicSpec topic, QueueSpec queue, Func<string, string> body)
        {
            var id = Guid.NewGuid().ToString();
            list.Add((kind, id, ct => PublishAsync(new PoisonMessage(kind, id, body(id), queue.Name), topic, ct)));
        }
        OnTopic("invalid JSON", topology.BatchSubmittedTopic, topology.ValidateQueue, id => $$"""{"messageId":"{{id}}","message":{"bucket":""");
        OnTopic("unknown message type", topology.BatchValidatedTopic, topology.TransformQueue,
            id => Envelope(id, "urn:message:Acme.Orders:OrderShipped", """{"orderId":42}"""));
        OnTopic("BatchSubmitted without its manifest key", topology.BatchSubmittedTopic, topology.ValidateQueue,
            id => Envelope(id, "urn:message:Pipeline.Contracts:BatchSubmitted", $$"""{"bucket":"{{bucket}}"}"""));
        OnTopic("BatchTransformed without its batch and files", topology.BatchTransformedTopic, topology.ComputeQueue,
            id => Envelope(id, "urn:message:Pipeline.Contracts:BatchTransformed", $$"""{"bucket":"{{bucket}}","version":1}"""));
        OnTopic("BatchValidated with a version that is not a number", topology.BatchValidatedTopic, topology.TransformQueue,
            id => Envelope(id, "urn:message:Pipeline.Contracts:BatchValidated",
                $$"""{"batchId":"poison-version","bucket":"{{bucket}}","manifestKey":"data/poison-version/""" +
                """manifest_poison-version.json","version":"two","contentId":"c"}"""));
        OnTopic("a huge body (200 KB, not JSON)", topology.BatchSubmittedTopic, topology.ValidateQueue,
            id => id + new string('x', 200_000));
        var s3EventId = Guid.NewGuid().ToString();
        list.Add(("an S3 event that is not JSON", s3EventId, ct => SendToQueueAsync(
            new PoisonMessage("an S3 event that is not JSON", s3EventId, $"Records: [{s3EventId}", topology.ManifestEventsQueue.Name), ct)));
        return list;
    }

    private static string Envelope(string messageId, string messageType, string message) =>
        $$$"""{"messageId":"{{{messageId}}}","conversationId":"{{{Guid.NewGuid()}}}","sourceAddress":"amazonsqs://us-east-1/""" +
        $$$"""reliability-bad-input","messageType":["{{{messageType}}}"],"message":""" +
        $$$"""{{{message}}},"sentTime":"{{{DateTimeOffset.UtcNow:O}}}","headers":{}}""";

    private async Task PublishAsync(PoisonMessage poison, TopicSpec topic, CancellationToken cancellationToken)
    {
        var arn = await sns.FindTopicArnAsync(topic.Name, cancellationToken) ?? throw new InvalidOperationException($"no topic {topic.Name}");
        Record(poison);
        await sns.PublishAsync(new PublishRequest(arn, poison.Body), cancellationToken);
    }

    private async Task SendToQueueAsync(PoisonMessage poison, CancellationToken cancellationToken)
    {
        var url = (await sqs.GetQueueUrlAsync(poison.DeadLetterQueue, cancellationToken)).QueueUrl;
        Record(poison);
        await sqs.SendMessageAsync(new SendMessageRequest(url, poison.Body), cancellationToken);
    }

    private void Record(PoisonMessage poison)
    {
        lock (_sent)
        {
            _sent.Add(poison);
        }
    }
}
