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
            new(BatchRetractionRequestedTopic, ComputeQueue),
            new(BatchUploadRepeatedTopic, ComputeQueue),
            new(KpisUpdatedTopic, NotifierQueue),
            new(BatchRejectedTopic, NotifierQueue),
            new(BatchRetractedTopic, NotifierQueue),
            new(BatchRetractionRefusedTopic, NotifierQueue),
            new(AlertsTopic, AlertsInboxQueue),
            new(AlertsTopic, DashboardQueue),
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
    /// What each version of a batch contributes (per day its sums and counts, its customers by id page, and a summary
    /// written last), kept so that a later version or a retraction can take it away exactly. See docs/kpi-storage.md.
    /// </summary>
    public TableSpec KpiContributionsTable { get; } = new(
        "pipeline-kpi-contributions", new TableKey(new KeyAttribute("batch_id"), new KeyAttribute("part")));

    /// <summary>
    /// Each day's folded KPI state: its totals and its customers' counts by id page, each item naming the version of
    /// every batch folded into it. The KPI rows are computed from these.
    /// </summary>
    public TableSpec KpiDaysTable { get; } = new(
        "pipeline-kpi-days", new TableKey(new KeyAttribute("order_date"), new KeyAttribute("part")));

    /// <summary>The runs of a batch name: a head item (version 0: latest version, version in force) and one item per version.</summary>
    public TableSpec PipelineRunsTable { get; } = new(
        "pipeline-runs", new TableKey(new KeyAttribute("batch_id"), new KeyAttribute("version", KeyAttributeType.Number)));

    /// <summary>Which batch version holds each order id and order item id, by id page: an order is counted once.</summary>
    public TableSpec OrderKeysTable { get; } = new("pipeline-order-keys", new TableKey(new KeyAttribute("page")));

    /// <summary>Messages and business keys handlers have finished, so duplicate deliveries are skipped (the event bus's IdempotencyStore).</summary>
    public TableSpec ProcessedMessagesTable { get; } = new("pipeline-processed-messages", new TableKey(new KeyAttribute("id")));

    // One topic per message type, named by MassTransit's SQS convention (namespace dots as '_', then '-', then the type).
    public TopicSpec BatchSubmittedTopic { get; } = new("Pipeline_Contracts-BatchSubmitted");
    public TopicSpec BatchValidatedTopic { get; } = new("Pipeline_Contracts-BatchValidated");
    public TopicSpec BatchRejectedTopic { get; } = new("Pipeline_Contracts-BatchRejected");
    public TopicSpec BatchTransformedTopic { get; } = new("Pipeline_Contracts-BatchTransformed");
    public TopicSpec KpisUpdatedTopic { get; } = new("Pipeline_Contracts-KpisUpdated");
    public TopicSpec BatchRetractionRequestedTopic { get; } = new("Pipeline_Contracts-BatchRetractionRequested");
    public TopicSpec BatchRetractedTopic { get; } = new("Pipeline_Contracts-BatchRetracted");
    public TopicSpec BatchRetractionRefusedTopic { get; } = new("Pipeline_Contracts-BatchRetractionRefused");
    public TopicSpec BatchUploadRepeatedTopic { get; } = new("Pipeline_Contracts-BatchUploadRepeated");

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

    /// <summary>The dashboard's own queue on the alerts topic: open pages update when a batch finishes.</summary>
    public QueueSpec DashboardQueue { get; } = new("pipeline-dashboard");

    public IReadOnlyList<TableSpec> Tables =>
        [CategoryKpisTable, OrderKpisTable, KpiContributionsTable, KpiDaysTable, PipelineRunsTable, OrderKeysTable, ProcessedMessagesTable];

    public IReadOnlyList<TopicSpec> Topics =>
        [BatchSubmittedTopic, BatchValidatedTopic, BatchRejectedTopic, BatchTransformedTopic, KpisUpdatedTopic,
         BatchRetractionRequestedTopic, BatchRetractedTopic, BatchRetractionRefusedTopic, BatchUploadRepeatedTopic, AlertsTopic];

    public IReadOnlyList<QueueSpec> Queues =>
        [ValidateQueue, TransformQueue, ComputeQueue, NotifierQueue, ManifestEventsQueue, AlertsInboxQueue, DashboardQueue];

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
