namespace Pipeline.Topology.Access;

/// <summary>What a service does with objects under one prefix of the bucket.</summary>
[Flags]
public enum ObjectOperations
{
    /// <summary>GetObject and HeadObject (and the source side of a copy).</summary>
    Read = 1,

    /// <summary>PutObject, multipart uploads and the target side of a copy.</summary>
    Write = 2,

    Delete = 4,
}

/// <summary>The DynamoDB calls a service makes on one table.</summary>
[Flags]
public enum TableOperations
{
    GetItem = 1,
    PutItem = 2,
    UpdateItem = 4,
    BatchWriteItem = 8,
    Query = 16,
    Scan = 32,
    DeleteItem = 64,

    /// <summary>Query on the table's global secondary indexes.</summary>
    QueryIndexes = 128,

    BatchGetItem = 256,
}

/// <summary>A prefix of the bucket, and what a service does with the objects under it.</summary>
public sealed record ObjectGrant(string Prefix, ObjectOperations Operations)
{
    /// <summary>When set, the grant covers only objects of this name, in any folder under <see cref="Prefix"/> (a version's report).</summary>
    public string? OnlyNamed { get; init; }

    /// <summary>When set, the grant covers the one object whose key is <see cref="Prefix"/> (the product master).</summary>
    public bool OnlyThisKey { get; init; }

    /// <summary>The keys the grant covers, as IAM matches them: <c>processed/*</c>, <c>processed/*/validation.json</c>, or one key.</summary>
    public string KeyPattern => OnlyThisKey ? Prefix : OnlyNamed is null ? Prefix + "*" : $"{Prefix}*/{OnlyNamed}";

    /// <summary>A key the grant covers, in the folder <paramref name="folder"/> (the warm-up probes with keys that do not exist).</summary>
    public string KeyIn(string folder) => OnlyNamed is null ? Prefix + folder : $"{Prefix}{folder}/{OnlyNamed}";
}

public sealed record TableGrant(TableSpec Table, TableOperations Operations)
{
    /// <summary>The indexes <see cref="TableOperations.QueryIndexes"/> covers: only these when set, else all of the table's.</summary>
    public IReadOnlyList<GlobalIndexSpec>? OnlyIndexes { get; init; }
}

/// <summary>
/// Everything one service touches in AWS, declared once: its readiness checks probe exactly these resources, and the
/// deployment's task role allows exactly <see cref="Permissions"/> on them. Adding a table to a service is one
/// <see cref="TableGrant"/> here; both follow.
/// </summary>
/// <param name="Name">The service's endpoint name (its queue is <c>{environment}-{Name}</c>, such as <c>pipeline-validate</c>).</param>
/// <param name="Consumes">Queues it receives from (its endpoint queue first); their dead-letter queues come with them.</param>
/// <param name="Publishes">Topics it publishes to.</param>
/// <param name="Objects">Prefixes of the bucket it reads, writes or deletes under.</param>
/// <param name="Tables">Tables and the calls it makes on each.</param>
/// <param name="WatchesDeadLetters">Queues whose dead-letter queue it reads (and leaves in place).</param>
public sealed record ServiceAccess(
    string Name,
    IReadOnlyList<QueueSpec> Consumes,
    IReadOnlyList<TopicSpec> Publishes,
    IReadOnlyList<ObjectGrant> Objects,
    IReadOnlyList<TableGrant> Tables,
    IReadOnlyList<QueueSpec> WatchesDeadLetters)
{
    /// <summary>Queues whose depth it reads (messages waiting, in flight), with their dead-letter queues'.</summary>
    public IReadOnlyList<QueueSpec> ReadsQueueDepths { get; init; } = [];

    /// <summary>The queue of the service's endpoint (its event bus receives here).</summary>
    public QueueSpec EndpointQueue => Consumes[0];

    /// <summary>Topics whose subscriptions to the consumed queues the service verifies at start.</summary>
    public IEnumerable<TopicSpec> SubscribedTopics(PipelineTopology topology) =>
        topology.Subscriptions.Where(s => Consumes.Contains(s.Queue)).Select(s => s.Topic).Distinct();

    /// <summary>Every IAM action on every resource this service needs, and nothing else.</summary>
    public IReadOnlyList<Permission> Permissions(PipelineTopology topology)
    {
        var permissions = new List<Permission>();
        void Allow(AwsResource resource, params string[] actions) => permissions.AddRange(actions.Select(a => new Permission(a, resource)));

        if (Objects.Count > 0)
        {
            // Listing finds a batch's files; it also lets HeadObject answer 404 rather than 403 for a missing key.
            Allow(AwsResource.Bucket(topology.Bucket), "s3:ListBucket");
        }
        foreach (var grant in Objects)
        {
            var objects = AwsResource.Objects(topology.Bucket, grant.KeyPattern);
            if (grant.Operations.HasFlag(ObjectOperations.Read)) Allow(objects, "s3:GetObject");
            if (grant.Operations.HasFlag(ObjectOperations.Write)) Allow(objects, "s3:PutObject", "s3:AbortMultipartUpload");
            if (grant.Operations.HasFlag(ObjectOperations.Delete)) Allow(objects, "s3:DeleteObject");
        }

        foreach (var grant in Tables)
        {
            var table = AwsResource.Table(grant.Table);
            Allow(table, "dynamodb:DescribeTable"); // readiness
            foreach (var operation in Enum.GetValues<TableOperations>().Where(o => o != TableOperations.QueryIndexes && grant.Operations.HasFlag(o)))
            {
                Allow(table, $"dynamodb:{operation}");
            }
            if (grant.Operations.HasFlag(TableOperations.QueryIndexes))
            {
                foreach (var index in grant.OnlyIndexes ?? grant.Table.GlobalIndexes)
                {
                    Allow(AwsResource.TableIndex(grant.Table, index), "dynamodb:Query");
                }
            }
        }

        foreach (var queue in Consumes)
        {
            Allow(AwsResource.Queue(queue),
                "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage");
            // The bus moves poison and failed messages to the dead-letter queue itself.
            Allow(AwsResource.DeadLetterQueue(queue), "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SendMessage");
        }
        foreach (var queue in WatchesDeadLetters)
        {
            Allow(AwsResource.DeadLetterQueue(queue), "sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility");
        }
        foreach (var queue in ReadsQueueDepths)
        {
            Allow(AwsResource.Queue(queue), "sqs:GetQueueUrl", "sqs:GetQueueAttributes");
            Allow(AwsResource.DeadLetterQueue(queue), "sqs:GetQueueUrl", "sqs:GetQueueAttributes");
        }

        foreach (var topic in SubscribedTopics(topology))
        {
            Allow(AwsResource.Topic(topic), "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic");
        }
        foreach (var topic in Publishes)
        {
            Allow(AwsResource.Topic(topic), "sns:GetTopicAttributes", "sns:Publish");
        }

        return permissions.Distinct().ToList();
    }
}

/// <summary>An IAM action allowed on one resource.</summary>
public sealed record Permission(string Action, AwsResource Resource);

public enum AwsResourceKind { Bucket, Objects, Table, TableIndex, Queue, DeadLetterQueue, Topic }

/// <summary>A resource of the topology as IAM names it; the deployment turns it into an ARN.</summary>
/// <param name="Name">The bucket, table, queue or topic name (the dead-letter queue's own name for <see cref="AwsResourceKind.DeadLetterQueue"/>).</param>
/// <param name="Path">The object keys (a pattern with <c>*</c>, as IAM has it), or the index name.</param>
public sealed record AwsResource(AwsResourceKind Kind, string Name, string? Path = null)
{
    public static AwsResource Bucket(BucketSpec bucket) => new(AwsResourceKind.Bucket, bucket.Name);
    public static AwsResource Objects(BucketSpec bucket, string keyPattern) => new(AwsResourceKind.Objects, bucket.Name, keyPattern);
    public static AwsResource Table(TableSpec table) => new(AwsResourceKind.Table, table.Name);
    public static AwsResource TableIndex(TableSpec table, GlobalIndexSpec index) => new(AwsResourceKind.TableIndex, table.Name, index.Name);
    public static AwsResource Queue(QueueSpec queue) => new(AwsResourceKind.Queue, queue.Name);
    public static AwsResource DeadLetterQueue(QueueSpec queue) => new(AwsResourceKind.DeadLetterQueue, queue.DeadLetterQueueName);
    public static AwsResource Topic(TopicSpec topic) => new(AwsResourceKind.Topic, topic.Name);
}
