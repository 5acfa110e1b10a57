namespace Pipeline.Topology;

/// <summary>
/// The single description of every AWS resource the pipeline uses. The provisioner applies it, the services
/// read their names from it, and deployment templates are generated from it: no name is written anywhere else.
/// </summary>
public sealed class PipelineTopology
{
    public const string DefaultBucketName = "ecommerce-pipeline-data";

    /// <param name="bucketName">S3 bucket names are global, so a deployment may choose its own.</param>
    public PipelineTopology(string? bucketName = null)
    {
        Bucket = new BucketSpec(string.IsNullOrWhiteSpace(bucketName) ? DefaultBucketName : bucketName);
        Subscriptions =
        [
            new(BatchSubmittedTopic, ValidateQueue),
            new(BatchValidatedTopic, TransformQueue),
            new(BatchTransformedTopic, ComputeQueue),
            new(KpisUpdatedTopic, NotifierQueue),
            new(BatchRejectedTopic, NotifierQueue),
            new(AlertsTopic, AlertsInboxQueue),
        ];
    }

    public BucketSpec Bucket { get; }

    // KPI tables: attribute names are exactly the KPI field names.
    public TableSpec CategoryKpisTable { get; } = new(
        "pipeline-category-kpis",
        new TableKey(new KeyAttribute("category"), new KeyAttribute("order_date")),
        [new GlobalIndexSpec("by-order-date", new TableKey(new KeyAttribute("order_date"), new KeyAttribute("category")))]);

    public TableSpec OrderKpisTable { get; } = new("pipeline-order-kpis", new TableKey(new KeyAttribute("order_date")));

    /// <summary>
    /// What each accepted batch added to each day (sums and counts per category, and its customers), written once per
    /// (day, batch): the KPI rows are recomputed from these, so replays and concurrent batches stay exact.
    /// </summary>
    public TableSpec KpiContributionsTable { get; } = new(
        "pipeline-kpi-contributions", new TableKey(new KeyAttribute("order_date"), new KeyAttribute("contribution_id")));

    /// <summary>One record per batch: state per stage, timestamps, counts and outcome.</summary>
    public TableSpec PipelineRunsTable { get; } = new("pipeline-runs", new TableKey(new KeyAttribute("batch_id")));

    /// <summary>Messages and business keys handlers have finished, so duplicate deliveries are skipped (the event bus's IdempotencyStore).</summary>
    public TableSpec ProcessedMessagesTable { get; } = new("pipeline-processed-messages", new TableKey(new KeyAttribute("id")));

    // One topic per message type, named by MassTransit's SQS convention (namespace dots as '_', then '-', then the type).
    public TopicSpec BatchSubmittedTopic { get; } = new("Pipeline_Contracts-BatchSubmitted");
    public TopicSpec BatchValidatedTopic { get; } = new("Pipeline_Contracts-BatchValidated");
    public TopicSpec BatchRejectedTopic { get; } = new("Pipeline_Contracts-BatchRejected");
    public TopicSpec BatchTransformedTopic { get; } = new("Pipeline_Contracts-BatchTransformed");
    public TopicSpec KpisUpdatedTopic { get; } = new("Pipeline_Contracts-KpisUpdated");

    /// <summary>Human-readable notifications of every success and failure (email subscribers in AWS).</summary>
    public TopicSpec AlertsTopic { get; } = new("pipeline-alerts");

    /// <summary>Service endpoint queues are named <c>pipeline-{endpoint}</c>.</summary>
    public const string EndpointQueuePrefix = "pipeline-";

    // One queue per service endpoint; long work (a whole batch) gets a longer visibility timeout.
    public QueueSpec ValidateQueue { get; } = new("pipeline-validate") { VisibilityTimeout = TimeSpan.FromMinutes(5) };
    public QueueSpec TransformQueue { get; } = new("pipeline-transform") { VisibilityTimeout = TimeSpan.FromMinutes(5) };
    public QueueSpec ComputeQueue { get; } = new("pipeline-compute") { VisibilityTimeout = TimeSpan.FromMinutes(5) };
    public QueueSpec NotifierQueue { get; } = new("pipeline-notifier");

    /// <summary>Where S3 sends ObjectCreated events for manifests (S3's own JSON, not an SNS envelope).</summary>
    public QueueSpec ManifestEventsQueue { get; } = new("pipeline-manifest-events");

    /// <summary>A queue on the alerts topic, so that alerts can be read locally and by tools.</summary>
    public QueueSpec AlertsInboxQueue { get; } = new("pipeline-alerts-inbox");

    public IReadOnlyList<TableSpec> Tables =>
        [CategoryKpisTable, OrderKpisTable, KpiContributionsTable, PipelineRunsTable, ProcessedMessagesTable];

    public IReadOnlyList<TopicSpec> Topics =>
        [BatchSubmittedTopic, BatchValidatedTopic, BatchRejectedTopic, BatchTransformedTopic, KpisUpdatedTopic, AlertsTopic];

    public IReadOnlyList<QueueSpec> Queues =>
        [ValidateQueue, TransformQueue, ComputeQueue, NotifierQueue, ManifestEventsQueue, AlertsInboxQueue];

    public IReadOnlyList<SubscriptionSpec> Subscriptions { get; }

    /// <summary>
    /// Manifests announce themselves: every <c>.json</c> created under <c>data/</c> (only manifests end so there) goes to the
    /// manifest-events queue, and Validate submits those whose key is exactly <c>data/&lt;batch&gt;/manifest_&lt;batch&gt;.json</c>.
    /// </summary>
    public ObjectCreatedNotificationSpec ManifestCreatedNotification => new(BucketSpec.DataPrefix, ".json", ManifestEventsQueue);

    public IReadOnlyList<ObjectCreatedNotificationSpec> BucketNotifications => [ManifestCreatedNotification];

    /// <summary>The queue of the service endpoint <paramref name="endpoint"/> (<c>validate</c> is <c>pipeline-validate</c>).</summary>
    /// <exception cref="ArgumentException">The topology declares no such queue.</exception>
    public QueueSpec EndpointQueue(string endpoint) =>
        Queues.SingleOrDefault(q => q.Name == EndpointQueuePrefix + endpoint)
        ?? throw new ArgumentException(
            $"The topology declares no queue {EndpointQueuePrefix}{endpoint}; endpoints are {string.Join(", ", Queues.Select(q => q.Name[EndpointQueuePrefix.Length..]))}.",
            nameof(endpoint));
}
