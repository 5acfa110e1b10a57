using System.Text.RegularExpressions;
using EventBus;

namespace Pipeline.Topology;

/// <summary>
/// The single description of every AWS resource the pipeline uses. The provisioner applies it, the services
/// read their names from it, and deployment templates are generated from it: no name is written anywhere else.
/// Every name derives from the <see cref="Environment"/>, so that two environments (a stack named <c>pipeline</c> and
/// one named <c>pipeline-staging</c>) can live in one account and region; the default environment's names are the
/// local ones.
/// </summary>
public sealed partial class PipelineTopology
{
    public const string DefaultBucketName = "ecommerce-pipeline-data";

    /// <summary>The environment of the local pipeline and of a stack named <c>pipeline</c>.</summary>
    public const string DefaultEnvironment = "pipeline";

    /// <summary>The longest AWS region name (<c>ap-southeast-2</c>), for names that contain the region.</summary>
    public const int MaxRegionLength = 14;

    private const int MaxBucketNameLength = 63;
    private const int MaxQueueNameLength = 80;

    /// <param name="bucketName">S3 bucket names are global, so a deployment may choose its own.</param>
    /// <param name="environment">The prefix of every name (<see cref="DefaultEnvironment"/> when not set).</param>
    /// <exception cref="ArgumentException">An environment name that would make a name AWS refuses.</exception>
    public PipelineTopology(string? bucketName = null, string? environment = null)
    {
        Environment = CheckEnvironment(string.IsNullOrWhiteSpace(environment) ? DefaultEnvironment : environment);
        // MassTransit's scoped topics (Scope(scope, scopeTopics: true)); the default environment keeps the plain names.
        TopicScope = Environment == DefaultEnvironment ? null : Environment;
        Bucket = new BucketSpec(string.IsNullOrWhiteSpace(bucketName) ? DefaultBucketName : bucketName);

        // KPI tables: attribute names are exactly the KPI field names.
        CategoryKpisTable = new(
            Name("category-kpis"),
            new TableKey(new KeyAttribute("category"), new KeyAttribute("order_date")),
            [new GlobalIndexSpec("by-order-date", new TableKey(new KeyAttribute("order_date"), new KeyAttribute("category")))]);
        OrderKpisTable = new(Name("order-kpis"), new TableKey(new KeyAttribute("order_date")));
        KpiContributionsTable = new(Name("kpi-contributions"), new TableKey(new KeyAttribute("batch_id"), new KeyAttribute("part")));
        KpiDaysTable = new(Name("kpi-days"), new TableKey(new KeyAttribute("order_date"), new KeyAttribute("part")));
        // Sparse indexes: only versions carry their attributes (open_status only while open), so a query reads what it lists.
        OpenRunsIndex = new("open-runs", new TableKey(new KeyAttribute("open_status"), new KeyAttribute("updated_at")));
        RunsBySubmissionIndex = new("by-submission", new TableKey(new KeyAttribute("listed"), new KeyAttribute("listed_at")));
        PipelineRunsTable = new(Name("runs"), new TableKey(new KeyAttribute("batch_id"), new KeyAttribute("version", KeyAttributeType.Number)),
            [OpenRunsIndex, RunsBySubmissionIndex]);
        OrderKeysTable = new(Name("order-keys"), new TableKey(new KeyAttribute("page")));
        ProcessedMessagesTable = new(Name("processed-messages"), new TableKey(new KeyAttribute("id"))) { TimeToLiveAttribute = ProcessedMessageExpiry };
        LatestAlertTable = new(Name("latest-alert"), new TableKey(new KeyAttribute("id")));
        DataQualityTable = new(Name("data-quality"), new TableKey(new KeyAttribute("check"), new KeyAttribute("subject")));

        // Glue and Athena names allow no '-': the environment's become '_'.
        AnalyticsDatabaseName = Environment.Replace('-', '_');
        AnalyticsWorkgroupName = Name("analysts");

        BatchSubmittedTopic = MessageTopic("Pipeline_Contracts-BatchSubmitted");
        BatchValidatedTopic = MessageTopic("Pipeline_Contracts-BatchValidated");
        BatchRejectedTopic = MessageTopic("Pipeline_Contracts-BatchRejected");
        BatchTransformedTopic = MessageTopic("Pipeline_Contracts-BatchTransformed");
        KpisUpdatedTopic = MessageTopic("Pipeline_Contracts-KpisUpdated");
        BatchRetractionRequestedTopic = MessageTopic("Pipeline_Contracts-BatchRetractionRequested");
        BatchRetractedTopic = MessageTopic("Pipeline_Contracts-BatchRetracted");
        BatchRetractionRefusedTopic = MessageTopic("Pipeline_Contracts-BatchRetractionRefused");
        BatchUploadRepeatedTopic = MessageTopic("Pipeline_Contracts-BatchUploadRepeated");
        ReconciliationFinishedTopic = MessageTopic("Pipeline_Contracts-ReconciliationFinished");
        AlertsTopic = new(Name("alerts"));

        // One queue per service endpoint; long work (a whole batch) gets a longer visibility timeout.
        ValidateQueue = new(Name("validate")) { VisibilityTimeout = TimeSpan.FromMinutes(5) };
        TransformQueue = new(Name("transform")) { VisibilityTimeout = TimeSpan.FromMinutes(5) };
        ComputeQueue = new(Name("compute")) { VisibilityTimeout = TimeSpan.FromMinutes(5) };
        NotifierQueue = new(Name("notifier"));
        ManifestEventsQueue = new(Name("manifest-events"));
        AlertsInboxQueue = new(Name("alerts-inbox"));
        CheckQueueNames();

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
            new(ReconciliationFinishedTopic, NotifierQueue),
            new(AlertsTopic, AlertsInboxQueue),
        ];
    }

    /// <summary>The prefix of every name: <c>pipeline</c> locally, the stack's name in AWS.</summary>
    public string Environment { get; }

    /// <summary>
    /// The scope of the message topics, MassTransit's way (<c>{scope}_{entity name}</c>): the environment, except the
    /// default one, whose topics keep MassTransit's plain names. The event bus is given the same scope.
    /// </summary>
    public string? TopicScope { get; }

    public BucketSpec Bucket { get; }

    public TableSpec CategoryKpisTable { get; }

    public TableSpec OrderKpisTable { get; }

    /// <summary>
    /// What each version of a batch contributes (per day its sums and counts, its customers by id page, and a summary
    /// written last), kept so that a later version or a retraction can take it away exactly. See docs/kpi-storage.md.
    /// </summary>
    public TableSpec KpiContributionsTable { get; }

    /// <summary>
    /// Each day's folded KPI state: its totals and its customers' counts by id page, each item naming the version of
    /// every batch folded into it. The KPI rows are computed from these.
    /// </summary>
    public TableSpec KpiDaysTable { get; }

    /// <summary>The runs of a batch name: a head item (version 0: latest version, version in force) and one item per version.</summary>
    public TableSpec PipelineRunsTable { get; }

    /// <summary>
    /// The versions open now (running, or failed and not yet announced) by that status, oldest update first: what the
    /// failure watcher and the health page read.
    /// </summary>
    public GlobalIndexSpec OpenRunsIndex { get; }

    /// <summary>Every version by submission time (newest first when read backwards): the runs overview reads only the page it shows.</summary>
    public GlobalIndexSpec RunsBySubmissionIndex { get; }

    /// <summary>Which batch version holds each order id and order item id, by id page: an order is counted once.</summary>
    public TableSpec OrderKeysTable { get; }

    /// <summary>
    /// Messages and business keys handlers have finished, so duplicate deliveries are skipped (the event bus's
    /// IdempotencyStore); each item expires at its <see cref="ProcessedMessageExpiry"/> (DynamoDB's TTL deletes it).
    /// </summary>
    public TableSpec ProcessedMessagesTable { get; }

    /// <summary>
    /// One item: the newest alert and how many alerts have been sent, written by the Notifier after each publish. Every
    /// dashboard task polls it (one GetItem every few seconds) and refreshes its open pages when the count moves.
    /// </summary>
    public TableSpec LatestAlertTable { get; }

    /// <summary>
    /// The state of the data-quality checks: a partition per check (<c>anomaly</c>, <c>freshness</c>), an item per subject it
    /// judged (a day's figure, a day), so that each finding is alerted once and cleared when the data comes right.
    /// </summary>
    public TableSpec DataQualityTable { get; }

    /// <summary>
    /// The enriched order items of every version in force, for analysts (docs/analytics.md): one Parquet object per order date
    /// and batch, <c>curated/order_items/order_date=YYYY-MM-DD/&lt;batch&gt;.parquet</c>. Money is exact (decimal), times are UTC.
    /// </summary>
    public static CuratedTableSpec CuratedOrderItems { get; } = new("order_items", BucketSpec.CuratedPrefix + "order_items/", "order_date",
    [
        new("order_id", "bigint"),
        new("item_id", "bigint"),
        new("user_id", "bigint"),
        new("product_id", "bigint"),
        new("category", "string"),
        new("status", "string"),
        new("sale_price", "decimal(38,18)"),
        new("created_at", "timestamp"),
        new("shipped_at", "timestamp"),
        new("delivered_at", "timestamp"),
        new("returned_at", "timestamp"),
    ]);

    /// <summary>The Glue database of the curated tables (<c>pipeline</c>; <c>pipeline_staging</c> for <c>pipeline-staging</c>).</summary>
    public string AnalyticsDatabaseName { get; }

    /// <summary>The Athena workgroup analysts query the curated tables in (<c>pipeline-analysts</c>).</summary>
    public string AnalyticsWorkgroupName { get; }

    /// <summary>The managed policy that lets analysts query the curated tables, and read nothing else (<c>pipeline-analysts-read</c>).</summary>
    public string AnalystsPolicyName => Name("analysts-read");

    /// <summary>The attribute (epoch seconds) the IdempotencyStore writes on each item, and the table's TTL attribute.</summary>
    public const string ProcessedMessageExpiry = "expires_at";

    // One topic per message type, named by MassTransit's SQS convention (namespace dots as '_', then '-', then the type).
    public TopicSpec BatchSubmittedTopic { get; }
    public TopicSpec BatchValidatedTopic { get; }
    public TopicSpec BatchRejectedTopic { get; }
    public TopicSpec BatchTransformedTopic { get; }
    public TopicSpec KpisUpdatedTopic { get; }
    public TopicSpec BatchRetractionRequestedTopic { get; }
    public TopicSpec BatchRetractedTopic { get; }
    public TopicSpec BatchRetractionRefusedTopic { get; }
    public TopicSpec BatchUploadRepeatedTopic { get; }

    /// <summary>The result of a reconciliation of the KPI tables with the archive (the scheduled task's), for the Notifier.</summary>
    public TopicSpec ReconciliationFinishedTopic { get; }

    /// <summary>Human-readable notifications of every success and failure (email subscribers in AWS).</summary>
    public TopicSpec AlertsTopic { get; }

    public QueueSpec ValidateQueue { get; }
    public QueueSpec TransformQueue { get; }
    public QueueSpec ComputeQueue { get; }
    public QueueSpec NotifierQueue { get; }

    /// <summary>Where S3 sends ObjectCreated events for manifests (S3's own JSON, not an SNS envelope).</summary>
    public QueueSpec ManifestEventsQueue { get; }

    /// <summary>A queue on the alerts topic, so that alerts can be read locally and by tools.</summary>
    public QueueSpec AlertsInboxQueue { get; }

    public IReadOnlyList<TableSpec> Tables =>
        [CategoryKpisTable, OrderKpisTable, KpiContributionsTable, KpiDaysTable, PipelineRunsTable, OrderKeysTable, ProcessedMessagesTable, LatestAlertTable,
         DataQualityTable];

    public IReadOnlyList<TopicSpec> Topics =>
        [BatchSubmittedTopic, BatchValidatedTopic, BatchRejectedTopic, BatchTransformedTopic, KpisUpdatedTopic,
         BatchRetractionRequestedTopic, BatchRetractedTopic, BatchRetractionRefusedTopic, BatchUploadRepeatedTopic, AlertsTopic,
         ReconciliationFinishedTopic];

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
        Queues.SingleOrDefault(q => q.Name == Name(endpoint))
        ?? throw new ArgumentException(
            $"The topology declares no queue {Name(endpoint)}; endpoints are {string.Join(", ", Queues.Select(q => q.Name[(Environment.Length + 1)..]))}.",
            nameof(endpoint));

    /// <summary>The name of what runs <paramref name="service"/> in AWS: its ECS service and task family (<c>pipeline-validate</c>).</summary>
    public string ServiceName(string service) => Name(service);

    /// <summary>The CloudWatch log group of <paramref name="service"/> (<c>/pipeline/validate</c>).</summary>
    public string LogGroupName(string service) => $"/{Environment}/{service}";

    /// <summary>The name of one of <paramref name="service"/>'s policies (IAM, scaling): <c>pipeline-validate-access</c>.</summary>
    public string ServicePolicyName(string service, string purpose) => Name($"{service}-{purpose}");

    /// <summary>The deployment's operations topic, where its CloudWatch alarms go (AWS only: nothing local raises alarms).</summary>
    public string OperationsTopicName => Name("operations");

    /// <summary>A CloudWatch alarm's name, as its email's subject shows it: <c>pipeline: validate has dead letters</c>.</summary>
    public string AlarmName(string what) => $"{Environment}: {what}";

    /// <summary>The user pool the deployment makes for the dashboard's sign-in when it is given no provider.</summary>
    public string DashboardUserPoolName => Name("dashboard-users");

    /// <summary>The sign-in domain prefix of that pool (unique per region across AWS, hence the account): <c>pipeline-123456789012</c>.</summary>
    public static string SignInDomainPrefix(string environment, string accountId) => $"{environment}-{accountId}";

    /// <summary>
    /// The bucket a deployment of <paramref name="environment"/> makes when it is given no name: the environment's, in its
    /// account and region (<c>pipeline-data-123456789012-eu-west-1</c>), as S3 names are global.
    /// </summary>
    /// <exception cref="ArgumentException">An environment name that cannot be, or that could make the name exceed S3's 63 characters.</exception>
    public static string AccountBucketName(string environment, string accountId, string region)
    {
        CheckEnvironment(environment);
        var longest = environment.Length + "-data-".Length + 12 + 1 + MaxRegionLength;
        if (longest > MaxBucketNameLength)
        {
            throw new ArgumentException(
                $"The environment name '{environment}' is too long for the default bucket name '{environment}-data-<account>-<region>' " +
                $"(S3 allows {MaxBucketNameLength} characters): name the bucket, or use at most " +
                $"{environment.Length - (longest - MaxBucketNameLength)} characters.");
        }
        return $"{environment}-data-{accountId}-{region}";
    }

    private string Name(string suffix) => $"{Environment}-{suffix}";

    private TopicSpec MessageTopic(string entityName) => new(MessageNaming.ScopedEntityName(entityName, TopicScope));

    /// <summary>Lower-case letters, digits and '-' (a letter first, no '-' last): valid in every name it prefixes, S3 buckets included.</summary>
    private static string CheckEnvironment(string environment) => EnvironmentName().IsMatch(environment)
        ? environment
        : throw new ArgumentException(
            $"'{environment}' cannot name an environment: use lower-case letters, digits and '-', beginning with a letter and not ending with '-' " +
            "(it prefixes every name in AWS, S3 buckets included).");

    /// <summary>SQS names have at most 80 characters, the dead-letter queue's <c>_error</c> included.</summary>
    private void CheckQueueNames()
    {
        var longest = Queues.Select(q => q.DeadLetterQueueName).MaxBy(n => n.Length)!;
        if (longest.Length > MaxQueueNameLength)
        {
            throw new ArgumentException(
                $"The environment name '{Environment}' is too long: its queue '{longest}' would have {longest.Length} characters, and SQS allows " +
                $"{MaxQueueNameLength}; use at most {Environment.Length - (longest.Length - MaxQueueNameLength)} characters.");
        }
    }

    [GeneratedRegex("^[a-z]([a-z0-9-]*[a-z0-9])?$")]
    private static partial Regex EnvironmentName();
}
