using System.Globalization;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.SQS;
using Amazon.SQS.Model;
using Aws.Sns;
using Microsoft.Extensions.Logging;

namespace Pipeline.Topology.Provisioning;

/// <summary>
/// Applies a <see cref="PipelineTopology"/> idempotently: what exists is kept (and its settings brought in line),
/// what is missing is created. Nothing is ever deleted, so running it against a live system is safe.
/// </summary>
public sealed partial class TopologyProvisioner(
    IAmazonS3 s3, IAmazonSQS sqs, IAmazonDynamoDB dynamoDb, SnsClient sns, ILogger<TopologyProvisioner> logger)
{
    public async Task ApplyAsync(PipelineTopology topology, CancellationToken cancellationToken)
    {
        var topicArns = new Dictionary<TopicSpec, string>();
        await Task.WhenAll(
            EnsureBucketAsync(topology.Bucket, cancellationToken),
            EnsureTablesAsync(topology.Tables, cancellationToken),
            EnsureTopicsAsync(topology.Topics, topicArns, cancellationToken)).ConfigureAwait(false);

        var queueArns = (await Task.WhenAll(topology.Queues.Select(async q => (q, arn: await EnsureQueueAsync(q, cancellationToken).ConfigureAwait(false))))
            .ConfigureAwait(false)).ToDictionary(x => x.q, x => x.arn);

        foreach (var subscription in topology.Subscriptions)
        {
            await EnsureSubscriptionAsync(subscription, topicArns[subscription.Topic], queueArns[subscription.Queue], cancellationToken).ConfigureAwait(false);
        }

        foreach (var queue in topology.Queues)
        {
            var policy = QueuePolicies.For(queue, queueArns[queue], topology, topicArns);
            await sqs.SetQueueAttributesAsync(new SetQueueAttributesRequest
            {
                QueueUrl = await QueueUrlAsync(queue.Name, cancellationToken).ConfigureAwait(false),
                Attributes = new() { [QueueAttributeName.Policy] = policy },
            }, cancellationToken).ConfigureAwait(false);
        }

        LogApplied(topology.Bucket.Name, topology.Tables.Count, topology.Topics.Count, topology.Queues.Count, topology.Subscriptions.Count);
    }

    private async Task EnsureBucketAsync(BucketSpec bucket, CancellationToken cancellationToken)
    {
        try
        {
            await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket.Name }, cancellationToken).ConfigureAwait(false);
            LogCreated("bucket", bucket.Name);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "BucketAlreadyOwnedByYou")
        {
            LogExists("bucket", bucket.Name);
        }
    }

    private async Task EnsureTablesAsync(IEnumerable<TableSpec> tables, CancellationToken cancellationToken)
    {
        // Look before creating, so that a first run shows no failed calls in its trace.
        var existing = await ExistingTablesAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(tables.Select(t => EnsureTableAsync(t, existing.Contains(t.Name), cancellationToken))).ConfigureAwait(false);
    }

    private async Task EnsureTableAsync(TableSpec table, bool exists, CancellationToken cancellationToken)
    {
        var description = exists
            ? (await dynamoDb.DescribeTableAsync(table.Name, cancellationToken).ConfigureAwait(false)).Table
            : (await dynamoDb.CreateTableAsync(TableRequests.Create(table), cancellationToken).ConfigureAwait(false)).TableDescription;
        if (exists)
        {
            LogExists("table", table.Name);
        }
        else
        {
            LogCreated("table", table.Name);
        }

        TableRequests.EnsureSameKeys(table, description);
        while (description.TableStatus != TableStatus.ACTIVE)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
            description = (await dynamoDb.DescribeTableAsync(table.Name, cancellationToken).ConfigureAwait(false)).Table;
        }
        if (table.TimeToLiveAttribute is { } expiry)
        {
            await EnsureTimeToLiveAsync(table.Name, expiry, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Lets DynamoDB delete the table's items once their <paramref name="attribute"/> (epoch seconds) has passed. dynalite
    /// (the local emulator) has no UpdateTimeToLive: there the items stay, which a local run never notices.
    /// </summary>
    private async Task EnsureTimeToLiveAsync(string table, string attribute, CancellationToken cancellationToken)
    {
        var current = (await dynamoDb.DescribeTimeToLiveAsync(new DescribeTimeToLiveRequest { TableName = table }, cancellationToken).ConfigureAwait(false))
            .TimeToLiveDescription;
        if (current?.AttributeName == attribute
            && (current.TimeToLiveStatus == TimeToLiveStatus.ENABLED || current.TimeToLiveStatus == TimeToLiveStatus.ENABLING))
        {
            LogExists("time to live", $"{table}.{attribute}");
            return;
        }
        try
        {
            await dynamoDb.UpdateTimeToLiveAsync(new UpdateTimeToLiveRequest
            {
                TableName = table,
                TimeToLiveSpecification = new TimeToLiveSpecification { AttributeName = attribute, Enabled = true },
            }, cancellationToken).ConfigureAwait(false);
            LogCreated("time to live", $"{table}.{attribute}");
        }
        catch (AmazonDynamoDBException e) when (e.ErrorCode == "UnknownOperationException")
        {
            LogNoTimeToLive(table, attribute);
        }
    }

    private async Task<HashSet<string>> ExistingTablesAsync(CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        string? start = null;
        do
        {
            var page = await dynamoDb.ListTablesAsync(new ListTablesRequest { ExclusiveStartTableName = start }, cancellationToken).ConfigureAwait(false);
            names.UnionWith(page.TableNames ?? []);
            start = page.LastEvaluatedTableName;
        }
        while (start is not null);
        return names;
    }

    private async Task EnsureTopicsAsync(IEnumerable<TopicSpec> topics, Dictionary<TopicSpec, string> arns, CancellationToken cancellationToken)
    {
        foreach (var topic in topics)
        {
            // CreateTopic is idempotent: it returns the existing topic's ARN.
            arns[topic] = (await sns.CreateTopicAsync(new Aws.Sns.CreateTopicRequest(topic.Name), cancellationToken).ConfigureAwait(false)).TopicArn;
            LogEnsured("topic", arns[topic]);
        }
    }

    private async Task<string> EnsureQueueAsync(QueueSpec queue, CancellationToken cancellationToken)
    {
        var deadLetterArn = await EnsureQueueAsync(queue.DeadLetterQueueName, new()
        {
            [QueueAttributeName.MessageRetentionPeriod] = Seconds(QueueSpec.DeadLetterRetention),
        }, cancellationToken).ConfigureAwait(false);

        var redrive = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["deadLetterTargetArn"] = deadLetterArn,
            ["maxReceiveCount"] = queue.RedriveMaxReceiveCount.ToString(CultureInfo.InvariantCulture),
        });
        return await EnsureQueueAsync(queue.Name, new()
        {
            [QueueAttributeName.VisibilityTimeout] = Seconds(queue.VisibilityTimeout),
            [QueueAttributeName.RedrivePolicy] = redrive,
            [QueueAttributeName.MaximumMessageSize] = QueueSpec.MaxMessageBytes.ToString(CultureInfo.InvariantCulture),
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates the queue, or brings an existing one's attributes in line; returns its ARN.</summary>
    private async Task<string> EnsureQueueAsync(string name, Dictionary<string, string> attributes, CancellationToken cancellationToken)
    {
        // CreateQueue without attributes returns an existing queue's URL; attributes are then set either way.
        var url = (await sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = name }, cancellationToken).ConfigureAwait(false)).QueueUrl;
        await sqs.SetQueueAttributesAsync(new SetQueueAttributesRequest { QueueUrl = url, Attributes = attributes }, cancellationToken).ConfigureAwait(false);
        LogEnsured("queue", name);

        var arn = await sqs.GetQueueAttributesAsync(
            new GetQueueAttributesRequest { QueueUrl = url, AttributeNames = [QueueAttributeName.QueueArn] }, cancellationToken).ConfigureAwait(false);
        return arn.QueueARN;
    }

    private async Task EnsureSubscriptionAsync(SubscriptionSpec subscription, string topicArn, string queueArn, CancellationToken cancellationToken)
    {
        // SNS refuses a repeated Subscribe whose attributes differ from the existing subscription's,
        // so find an existing one first and bring its attributes in line.
        var rawDelivery = subscription.RawMessageDelivery ? "true" : "false";
        var existing = (await sns.ListAllSubscriptionsByTopicAsync(topicArn, cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(s => s.Protocol == "sqs" && s.Endpoint == queueArn);
        if (existing is null)
        {
            await sns.SubscribeAsync(new SubscribeRequest(topicArn, "sqs", queueArn)
            {
                Attributes = new Dictionary<string, string> { ["RawMessageDelivery"] = rawDelivery },
            }, cancellationToken).ConfigureAwait(false);
            LogCreated("subscription", $"{subscription.Topic.Name} -> {subscription.Queue.Name}");
        }
        else
        {
            await sns.SetSubscriptionAttributesAsync(
                new SetSubscriptionAttributesRequest(existing.SubscriptionArn, "RawMessageDelivery", rawDelivery), cancellationToken).ConfigureAwait(false);
            LogExists("subscription", $"{subscription.Topic.Name} -> {subscription.Queue.Name}");
        }
    }

    private async Task<string> QueueUrlAsync(string name, CancellationToken cancellationToken) =>
        (await sqs.GetQueueUrlAsync(name, cancellationToken).ConfigureAwait(false)).QueueUrl;

    private static string Seconds(TimeSpan span) => ((int)span.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created {Kind} {Name}")]
    private partial void LogCreated(string kind, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Kind} {Name} already exists")]
    private partial void LogExists(string kind, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "This DynamoDB has no time to live (dynalite): items of {Table} stay after their {Attribute}")]
    private partial void LogNoTimeToLive(string table, string attribute);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ensured {Kind} {Name}")]
    private partial void LogEnsured(string kind, string name);

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Topology applied: bucket {Bucket}, {Tables} tables, {Topics} topics, {Queues} queues with dead-letter queues, " +
            "{Subscriptions} subscriptions")]
    private partial void LogApplied(string bucket, int tables, int topics, int queues, int subscriptions);
}
