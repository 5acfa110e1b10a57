using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.SQS;
using Amazon.SQS.Model;
using Aws.Sns;

namespace EventBus.AwsSqs;

/// <summary>A queue the bus receives from, as found (or made) at start.</summary>
internal sealed record EndpointQueue(
    string Name, string Url, string Arn, string DeadLetterUrl, TimeSpan VisibilityTimeout, int MaxReceiveCount);

/// <summary>
/// The bus's part of the topology: a topic per message type, the endpoint queue with its <c>_error</c> dead-letter queue
/// wired by redrive, a policy that lets the topics send, and raw-delivery subscriptions. Ensured idempotently, or verified.
/// </summary>
internal sealed class SqsTopology(IAmazonSQS sqs, SnsClient sns, TopologyMode mode)
{
    private const string PolicyStatementId = "AllowEventBusTopics";

    public async Task<string> TopicArnAsync(string topicName, CancellationToken cancellationToken)
    {
        SqsNames.CheckTopicName(topicName);
        if (mode == TopologyMode.Ensure)
        {
            // CreateTopic is idempotent: it returns the existing topic's ARN.
            return (await sns.CreateTopicAsync(new CreateTopicRequest(topicName), cancellationToken).ConfigureAwait(false)).TopicArn;
        }
        return await sns.FindTopicArnAsync(topicName, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Topic {topicName} does not exist; provision the topology or use TopologyMode.Ensure.");
    }

    /// <summary>The queue and its dead-letter queue, subscribed to <paramref name="topicNames"/>.</summary>
    public async Task<EndpointQueue> EndpointAsync(
        string queueName, IReadOnlyCollection<string> topicNames, SqsEventBusOptions options, CancellationToken cancellationToken)
    {
        SqsNames.CheckQueueName(queueName);
        var deadLetterName = SqsNames.DeadLetterQueueOf(queueName);
        var deadLetterUrl = await QueueUrlAsync(deadLetterName, new()
        {
            // Dead letters are kept for the longest time SQS allows, so nothing is lost before someone looks.
            [QueueAttributeName.MessageRetentionPeriod] = TimeSpan.FromDays(14).TotalSeconds.ToString(CultureInfo.InvariantCulture),
        }, cancellationToken).ConfigureAwait(false);
        var deadLetterArn = (await AttributesAsync(deadLetterUrl, cancellationToken).ConfigureAwait(false))[QueueAttributeName.QueueArn];

        var url = await QueueUrlAsync(queueName, new()
        {
            [QueueAttributeName.VisibilityTimeout] = ((int)options.VisibilityTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            [QueueAttributeName.RedrivePolicy] = RedrivePolicy(deadLetterArn, options.MaxReceiveCount + options.SpareReceives),
            // What the topics can deliver; a larger message sent to the queue directly is refused to its sender.
            [QueueAttributeName.MaximumMessageSize] = options.MaxMessageBytes.ToString(CultureInfo.InvariantCulture),
        }, cancellationToken).ConfigureAwait(false);
        var attributes = await AttributesAsync(url, cancellationToken).ConfigureAwait(false);
        var arn = attributes[QueueAttributeName.QueueArn];

        var redrive = attributes.TryGetValue(QueueAttributeName.RedrivePolicy, out var policy) ? JsonNode.Parse(policy) : null;
        if (redrive is null && mode == TopologyMode.Ensure)
        {
            // A queue made by hand without a dead-letter queue: wire it, as creating it would have.
            policy = RedrivePolicy(deadLetterArn, options.MaxReceiveCount + options.SpareReceives);
            await sqs.SetQueueAttributesAsync(new SetQueueAttributesRequest
            {
                QueueUrl = url,
                Attributes = new() { [QueueAttributeName.RedrivePolicy] = policy },
            }, cancellationToken).ConfigureAwait(false);
            redrive = JsonNode.Parse(policy);
        }
        if (redrive?["deadLetterTargetArn"]?.GetValue<string>() != deadLetterArn)
        {
            throw new InvalidOperationException(
                $"Queue {queueName} does not send its dead letters to {deadLetterName} (redrive policy: {policy ?? "none"}); " +
                "fix the queue or its provisioning.");
        }

        var topicArns = new List<string>();
        foreach (var topic in topicNames)
        {
            var topicArn = await TopicArnAsync(topic, cancellationToken).ConfigureAwait(false);
            topicArns.Add(topicArn);
            await SubscriptionAsync(topicArn, arn, cancellationToken).ConfigureAwait(false);
        }
        if (mode == TopologyMode.Ensure && topicArns.Count > 0)
        {
            await AllowTopicsAsync(url, arn, attributes.GetValueOrDefault(QueueAttributeName.Policy), topicArns, cancellationToken).ConfigureAwait(false);
        }

        return new EndpointQueue(queueName, url, arn, deadLetterUrl,
            TimeSpan.FromSeconds(int.Parse(attributes[QueueAttributeName.VisibilityTimeout], CultureInfo.InvariantCulture)),
            Math.Min(options.MaxReceiveCount, ReadMaxReceiveCount(redrive) ?? options.MaxReceiveCount));
    }

    /// <summary>The queue's URL; in ensure mode a missing queue is created with <paramref name="attributes"/>, an existing one is left as it is.</summary>
    private async Task<string> QueueUrlAsync(string name, Dictionary<string, string> attributes, CancellationToken cancellationToken)
    {
        try
        {
            return (await sqs.GetQueueUrlAsync(name, cancellationToken).ConfigureAwait(false)).QueueUrl;
        }
        catch (QueueDoesNotExistException) when (mode == TopologyMode.Ensure)
        {
            var request = new CreateQueueRequest { QueueName = name, Attributes = attributes };
            return (await sqs.CreateQueueAsync(request, cancellationToken).ConfigureAwait(false)).QueueUrl;
        }
        catch (QueueDoesNotExistException e)
        {
            throw new InvalidOperationException($"Queue {name} does not exist; provision the topology or use TopologyMode.Ensure.", e);
        }
    }

    private async Task<Dictionary<string, string>> AttributesAsync(string url, CancellationToken cancellationToken) =>
        (await sqs.GetQueueAttributesAsync(
            new GetQueueAttributesRequest { QueueUrl = url, AttributeNames = ["All"] }, cancellationToken).ConfigureAwait(false)).Attributes;

    private async Task SubscriptionAsync(string topicArn, string queueArn, CancellationToken cancellationToken)
    {
        var subscriptions = await sns.ListAllSubscriptionsByTopicAsync(topicArn, cancellationToken).ConfigureAwait(false);
        if (subscriptions.Any(s => s.Protocol == "sqs" && s.Endpoint == queueArn))
        {
            return;
        }
        if (mode == TopologyMode.Verify)
        {
            throw new InvalidOperationException($"Queue {queueArn} is not subscribed to topic {topicArn}; provision the topology or use TopologyMode.Ensure.");
        }

        // The attribute is set apart from Subscribe: SNS refuses a repeated Subscribe whose attributes differ from the first.
        var subscribed = await sns.SubscribeAsync(new SubscribeRequest(topicArn, "sqs", queueArn), cancellationToken).ConfigureAwait(false);
        await sns.SetSubscriptionAttributesAsync(
            new SetSubscriptionAttributesRequest(subscribed.SubscriptionArn, "RawMessageDelivery", "true"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds (or replaces) our statement in the queue policy, keeping the statements others put there.</summary>
    private async Task AllowTopicsAsync(string url, string queueArn, string? existingPolicy, List<string> topicArns, CancellationToken cancellationToken)
    {
        var policy = (existingPolicy is { Length: > 0 } ? JsonNode.Parse(existingPolicy) as JsonObject : null) ?? new JsonObject { ["Version"] = "2012-10-17" };
        var statements = policy["Statement"] as JsonArray ?? [];
        var kept = statements.Where(s => s?["Sid"]?.GetValue<string>() != PolicyStatementId).Select(s => s?.DeepClone()).ToList();
        kept.Add(new JsonObject
        {
            ["Sid"] = PolicyStatementId,
            ["Effect"] = "Allow",
            ["Principal"] = new JsonObject { ["Service"] = "sns.amazonaws.com" },
            ["Action"] = "sqs:SendMessage",
            ["Resource"] = queueArn,
            ["Condition"] = new JsonObject
            {
                ["ArnEquals"] = new JsonObject { ["aws:SourceArn"] = new JsonArray([.. topicArns.Select(a => JsonValue.Create(a))]) },
            },
        });
        policy["Statement"] = new JsonArray([.. kept]);
        await sqs.SetQueueAttributesAsync(new SetQueueAttributesRequest
        {
            QueueUrl = url,
            Attributes = new() { [QueueAttributeName.Policy] = policy.ToJsonString() },
        }, cancellationToken).ConfigureAwait(false);
    }

    private static string RedrivePolicy(string deadLetterArn, int maxReceiveCount) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["deadLetterTargetArn"] = deadLetterArn,
        ["maxReceiveCount"] = maxReceiveCount,
    });

    // SQS writes maxReceiveCount as a number, some tools as a string.
    private static int? ReadMaxReceiveCount(JsonNode? redrive) => redrive?["maxReceiveCount"] switch
    {
        JsonValue value when value.TryGetValue<int>(out var number) => number,
        JsonValue value when value.TryGetValue<string>(out var text) && int.TryParse(text, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };
}
