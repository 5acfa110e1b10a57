using Amazon.CDK;
using Amazon.CDK.AWS.DynamoDB;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.ECS;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.S3;
using Amazon.CDK.AWS.SNS;
using Amazon.CDK.AWS.SNS.Subscriptions;
using Amazon.CDK.AWS.SQS;
using Constructs;
using Pipeline.Topology;
using Pipeline.Topology.Access;
using DynamoAttribute = Amazon.CDK.AWS.DynamoDB.Attribute;

namespace Deploy;

/// <summary>
/// The whole pipeline in one stack, generated from <see cref="PipelineTopology"/> (every bucket, table, topic, queue and
/// subscription, by iterating its collections) and <see cref="PipelineServices"/> (one Fargate service per worker and
/// the dashboard behind its internal load balancer, each task role exactly what the service's access declaration names).
/// </summary>
public sealed class PipelineStack : Stack
{
    private readonly Dictionary<string, Table> _tables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<TopicSpec, Topic> _topics = [];
    private readonly Dictionary<string, List<IDependable>> _subscriptions = new(StringComparer.Ordinal);

    public PipelineStack(Construct scope, DeploySettings settings)
        : base(scope, settings.StackName, new StackProps
        {
            Description = "E-commerce data pipeline: S3, SQS/SNS, DynamoDB, four workers and the KPI dashboard on ECS Fargate " +
                "(generated from Pipeline.Topology)",
            // No CDK bootstrap version check: the template also deploys with plain `aws cloudformation deploy`.
            Synthesizer = new DefaultStackSynthesizer(new DefaultStackSynthesizerProps { GenerateBootstrapVersionRule = false }),
        })
    {
        // Every name derives from the stack's name (the environment), the default bucket's from its account and region too.
        var bucketName = settings.BucketName ?? PipelineTopology.AccountBucketName(settings.StackName, Amazon.CDK.Aws.ACCOUNT_ID, Amazon.CDK.Aws.REGION);
        Topology = new PipelineTopology(bucketName, settings.StackName);
        Bucket = AddBucket();
        var deletionProtection = AddDeletionProtectionParameter(settings.TableDeletionProtection);
        foreach (var table in Topology.Tables)
        {
            _tables[table.Name] = AddTable(table, deletionProtection);
        }
        foreach (var topic in Topology.Topics)
        {
            _topics[topic] = new Topic(this, Id("Topic", topic.Name), new TopicProps { TopicName = topic.Name });
            TopicPolicies.RequireTls(_topics[topic]);
        }
        foreach (var queue in Topology.Queues)
        {
            AddQueue(queue);
        }
        foreach (var subscription in Topology.Subscriptions)
        {
            var subscribed = _topics[subscription.Topic].AddSubscription(new SqsSubscription(_queues[subscription.Queue.Name],
                new SqsSubscriptionProps { RawMessageDelivery = subscription.RawMessageDelivery }));
            _subscriptions.TryAdd(subscription.Queue.Name, []);
            _subscriptions[subscription.Queue.Name].Add(subscribed);
        }
        AddBucketNotifications();
        foreach (var email in settings.AlertEmails)
        {
            _topics[Topology.AlertsTopic].AddSubscription(new EmailSubscription(email));
        }

        var network = new WorkerNetwork(this, settings);
        var cluster = new Cluster(this, "Cluster", new ClusterProps { Vpc = network.Vpc });
        var images = new WorkerImages(this, settings.ImageArchives);
        var services = new PipelineServices(Topology);
        var workers = services.All.Select(access => new WorkerService(this, access, settings, cluster, network, images)).ToList();
        var dashboard = new DashboardService(this, services.Dashboard, settings, cluster, network, images);
        _ = new Operations(this, settings, services, workers, dashboard);
        _ = new ReconciliationTask(this, services, settings, cluster, network, images);
        _ = new Analytics(this, settings);

        _ = new CfnOutput(this, StackOutputNames.BucketName, new CfnOutputProps { Value = Bucket.BucketName });
        _ = new CfnOutput(this, "ClusterName", new CfnOutputProps { Value = cluster.ClusterName });
        _ = new CfnOutput(this, StackOutputNames.AlertsTopicArn, new CfnOutputProps { Value = _topics[Topology.AlertsTopic].TopicArn });
    }

    /// <summary>
    /// What happens to data (the bucket, the tables, the dead letters) when the stack lets go of it: kept when the stack is
    /// deleted or the resource replaced, removed when the stack's first create fails and rolls back (nothing was in it yet),
    /// so that the create can simply be tried again.
    /// </summary>
    public static readonly RemovalPolicy KeptData = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;

    /// <summary>The template parameter that turns the tables' deletion protection on (<c>true</c>) or off (<c>false</c>).</summary>
    public const string TableDeletionProtectionParameter = "TableDeletionProtection";

    public PipelineTopology Topology { get; }

    public Bucket Bucket { get; }

    /// <summary>The ARN IAM knows a topology resource by.</summary>
    public string ArnOf(AwsResource resource) => resource.Kind switch
    {
        AwsResourceKind.Bucket => Bucket.BucketArn,
        AwsResourceKind.Objects => Bucket.ArnForObjects(resource.Path!),
        AwsResourceKind.Table => _tables[resource.Name].TableArn,
        AwsResourceKind.TableIndex => $"{_tables[resource.Name].TableArn}/index/{resource.Path}",
        AwsResourceKind.Queue or AwsResourceKind.DeadLetterQueue => _queues[resource.Name].QueueArn,
        AwsResourceKind.Topic => _topics.Single(t => t.Key.Name == resource.Name).Value.TopicArn,
        _ => throw new ArgumentOutOfRangeException(nameof(resource), resource.Kind, "unknown resource kind"),
    };

    public Queue QueueOf(QueueSpec queue) => _queues[queue.Name];

    /// <summary>
    /// What must be in place before a service's tasks start, or its first messages would be missed or its start fail: the
    /// subscriptions that fill the queues it consumes, and those queues' policies (which let the topics and the bucket send).
    /// </summary>
    public IDependable[] StartAfter(ServiceAccess access) =>
        access.Consumes.SelectMany(queue => _subscriptions.GetValueOrDefault(queue.Name, []).Append(_queues[queue.Name].Node.FindChild("Policy"))).ToArray();

    private Bucket AddBucket() => new(this, "Bucket", new BucketProps
    {
        BucketName = Topology.Bucket.Name,
        BlockPublicAccess = BlockPublicAccess.BLOCK_ALL,
        // SSE-KMS with the account's AWS-managed key (whose key policy lets the account use it through S3; no IAM grant needed)
        // and a bucket key, so KMS is asked once per bucket key rather than per object.
        Encryption = BucketEncryption.KMS_MANAGED,
        BucketKeyEnabled = true,
        EnforceSSL = true,
        Versioned = true,
        ObjectOwnership = ObjectOwnership.BUCKET_OWNER_ENFORCED,
        RemovalPolicy = KeptData,
        LifecycleRules =
        [
            // Versions protect against mistakes; the moved and replaced ones need not be kept for ever, nor the delete
            // markers left alone once the versions under them have expired.
            new LifecycleRule
            {
                NoncurrentVersionExpiration = Duration.Days(30),
                ExpiredObjectDeleteMarker = true,
                AbortIncompleteMultipartUploadAfter = Duration.Days(1),
            },
        ],
    });

    /// <summary>
    /// DynamoDB's deletion protection on the tables is a parameter (its default: the setting) rather than a fixed value:
    /// a failed first create must delete its tables as it rolls back, which protection forbids, so the deploy command
    /// creates a stack without it and turns it on once the create has succeeded, with the same template (and the same
    /// published assets): CloudFormation then changes that one property and nothing else. Two templates would cost a
    /// second synthesis, a second copy of the image assets, and a template that the checks never saw.
    /// </summary>
    private CfnParameter AddDeletionProtectionParameter(bool byDefault) => new(this, TableDeletionProtectionParameter, new CfnParameterProps
    {
        Type = "String",
        AllowedValues = ["true", "false"],
        Default = byDefault ? "true" : "false",
        Description = "DynamoDB deletion protection on the tables: the deploy command passes false for a stack's first create " +
            "(a failed create can then roll back completely) and turns it on once the create has succeeded (setting tableDeletionProtection)",
    });

    private Table AddTable(TableSpec spec, CfnParameter deletionProtection)
    {
        var table = new Table(this, Id("Table", spec.Name), new TableProps
        {
            TableName = spec.Name,
            PartitionKey = Attribute(spec.Key.Partition),
            SortKey = spec.Key.Sort is { } sort ? Attribute(sort) : null,
            BillingMode = BillingMode.PAY_PER_REQUEST,
            PointInTimeRecovery = true,
            Encryption = TableEncryption.AWS_MANAGED,
            RemovalPolicy = KeptData,
            TimeToLiveAttribute = spec.TimeToLiveAttribute,
        });
        ((CfnTable)table.Node.DefaultChild!).DeletionProtectionEnabled = deletionProtection.Value;
        foreach (var index in spec.GlobalIndexes)
        {
            table.AddGlobalSecondaryIndex(new GlobalSecondaryIndexProps
            {
                IndexName = index.Name,
                PartitionKey = Attribute(index.Key.Partition),
                SortKey = index.Key.Sort is { } indexSort ? Attribute(indexSort) : null,
                ProjectionType = ProjectionType.ALL,
            });
        }
        return table;
    }

    private void AddQueue(QueueSpec spec)
    {
        var deadLetters = new Queue(this, Id("Queue", spec.DeadLetterQueueName), new QueueProps
        {
            QueueName = spec.DeadLetterQueueName,
            RetentionPeriod = Duration.Seconds(QueueSpec.DeadLetterRetention.TotalSeconds),
            Encryption = QueueEncryption.SQS_MANAGED,
            EnforceSSL = true,
            RemovalPolicy = KeptData,
        });
        _queues[spec.DeadLetterQueueName] = deadLetters;
        _queues[spec.Name] = new Queue(this, Id("Queue", spec.Name), new QueueProps
        {
            QueueName = spec.Name,
            VisibilityTimeout = Duration.Seconds(spec.VisibilityTimeout.TotalSeconds),
            MaxMessageSizeBytes = QueueSpec.MaxMessageBytes,
            DeadLetterQueue = new DeadLetterQueue { Queue = deadLetters, MaxReceiveCount = spec.RedriveMaxReceiveCount },
            Encryption = QueueEncryption.SQS_MANAGED,
            EnforceSSL = true,
        });
    }

    /// <summary>
    /// S3's own ObjectCreated events for the topology's notifications (manifests), declared on the bucket itself rather
    /// than through CDK's helper, which deploys a Lambda function to do it. The queue policy names the bucket by its
    /// fixed name, so the bucket can wait for the policy (S3 checks it can send) without a dependency cycle.
    /// </summary>
    private void AddBucketNotifications()
    {
        var configurations = new List<CfnBucket.QueueConfigurationProperty>();
        foreach (var notification in Topology.BucketNotifications)
        {
            var queue = _queues[notification.Queue.Name];
            queue.AddToResourcePolicy(new PolicyStatement(new PolicyStatementProps
            {
                Sid = "AllowBucketNotifications",
                Principals = [new ServicePrincipal("s3.amazonaws.com")],
                Actions = ["sqs:SendMessage"],
                Resources = [queue.QueueArn],
                Conditions = new Dictionary<string, object>
                {
                    ["ArnEquals"] = new Dictionary<string, object> { ["aws:SourceArn"] = $"arn:{Amazon.CDK.Aws.PARTITION}:s3:::{Topology.Bucket.Name}" },
                    ["StringEquals"] = new Dictionary<string, object> { ["aws:SourceAccount"] = Amazon.CDK.Aws.ACCOUNT_ID },
                },
            }));
            Bucket.Node.AddDependency(queue.Node.FindChild("Policy"));
            configurations.Add(new CfnBucket.QueueConfigurationProperty
            {
                Event = "s3:ObjectCreated:*",
                Queue = queue.QueueArn,
                Filter = new CfnBucket.NotificationFilterProperty
                {
                    S3Key = new CfnBucket.S3KeyFilterProperty
                    {
                        Rules = new[]
                        {
                            new CfnBucket.FilterRuleProperty { Name = "prefix", Value = notification.Prefix },
                            new CfnBucket.FilterRuleProperty { Name = "suffix", Value = notification.Suffix },
                        },
                    },
                },
            });
        }
        ((CfnBucket)Bucket.Node.DefaultChild!).NotificationConfiguration =
            new CfnBucket.NotificationConfigurationProperty { QueueConfigurations = configurations.ToArray() };
    }

    private static DynamoAttribute Attribute(KeyAttribute key) => new()
    {
        Name = key.Name,
        Type = key.Type == KeyAttributeType.Number ? AttributeType.NUMBER : AttributeType.STRING,
    };

    /// <summary>A construct id from a resource name (CloudFormation logical ids are alphanumeric).</summary>
    public static string Id(string kind, string name) =>
        kind + string.Concat(name.Split(['-', '_', '.']).Select(part => part.Length == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..]));
}
