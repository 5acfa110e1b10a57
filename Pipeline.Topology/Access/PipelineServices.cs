namespace Pipeline.Topology.Access;

/// <summary>
/// The four workers and the dashboard, and what each one's code calls in AWS today (handlers, Pipeline.Storage, the event bus, the
/// Notifier's failure watcher). Their readiness checks and their task roles in AWS both come from here.
/// </summary>
public sealed class PipelineServices(PipelineTopology topology)
{
    /// <summary>
    /// Reads submitted uploads (HEAD, then GET only with the version's ETags), announced on its queue or by S3 events;
    /// takes versions up and records their stages; claims order ids; writes the version's report (in processed/ only
    /// that); on rejection moves the version's files to errors/ (copy, check the copy, delete), as it does an identical
    /// re-upload of a rejected version, and hands an identical re-upload of an accepted one to Compute.
    /// </summary>
    public ServiceAccess Validate { get; } = new(
        "validate",
        Consumes: [topology.ValidateQueue, topology.ManifestEventsQueue],
        Publishes: [topology.BatchValidatedTopic, topology.BatchRejectedTopic, topology.BatchUploadRepeatedTopic],
        Objects:
        [
            new(BucketSpec.DataPrefix, ObjectOperations.Read | ObjectOperations.Delete),
            new(BucketSpec.ProcessedPrefix, ObjectOperations.Write) { OnlyNamed = BucketSpec.ReportName },
            new(BucketSpec.ErrorsPrefix, ObjectOperations.Read | ObjectOperations.Write),
        ],
        Tables:
        [
            new(topology.PipelineRunsTable, TableOperations.GetItem | TableOperations.PutItem | TableOperations.UpdateItem | TableOperations.Query),
            new(topology.OrderKeysTable, TableOperations.GetItem | TableOperations.PutItem),
        ],
        WatchesDeadLetters: []);

    /// <summary>Reads validated versions (their own ETags) and writes their enriched files; never sees errors/ or the KPI tables.</summary>
    public ServiceAccess Transform { get; } = new(
        "transform",
        Consumes: [topology.TransformQueue],
        Publishes: [topology.BatchTransformedTopic],
        Objects:
        [
            new(BucketSpec.DataPrefix, ObjectOperations.Read),
            new(BucketSpec.TransformedPrefix, ObjectOperations.Write),
        ],
        Tables: [new(topology.PipelineRunsTable, TableOperations.UpdateItem)],
        WatchesDeadLetters: []);

    /// <summary>
    /// Writes versions' contributions and folds batches into the KPI tables (and retracted ones out), records which
    /// version is in force, moves the version's raw files to processed/ (and an identical re-upload of them after), and a
    /// retracted version's to retracted/; writes the Parquet of the versions in force to curated/ and deletes a batch's
    /// days there that its version in force no longer has (it never reads curated/: the contribution summaries say which
    /// days a batch touched).
    /// </summary>
    public ServiceAccess Compute { get; } = new(
        "compute",
        Consumes: [topology.ComputeQueue],
        Publishes: [topology.KpisUpdatedTopic, topology.BatchRetractedTopic, topology.BatchRetractionRefusedTopic],
        Objects:
        [
            new(BucketSpec.DataPrefix, ObjectOperations.Read | ObjectOperations.Delete),
            new(BucketSpec.TransformedPrefix, ObjectOperations.Read),
            new(BucketSpec.ProcessedPrefix, ObjectOperations.Read | ObjectOperations.Write | ObjectOperations.Delete),
            new(BucketSpec.RetractedPrefix, ObjectOperations.Read | ObjectOperations.Write),
            new(BucketSpec.CuratedPrefix, ObjectOperations.Write | ObjectOperations.Delete),
        ],
        Tables:
        [
            new(topology.KpiContributionsTable,
                TableOperations.BatchWriteItem | TableOperations.PutItem | TableOperations.GetItem | TableOperations.BatchGetItem | TableOperations.Query),
            new(topology.KpiDaysTable, TableOperations.GetItem | TableOperations.BatchGetItem | TableOperations.PutItem),
            new(topology.OrderKpisTable, TableOperations.BatchWriteItem),
            new(topology.CategoryKpisTable, TableOperations.BatchWriteItem),
            new(topology.PipelineRunsTable, TableOperations.GetItem | TableOperations.PutItem | TableOperations.UpdateItem | TableOperations.Query),
        ],
        WatchesDeadLetters: []);

    /// <summary>
    /// Publishes each alert once (claims in the processed-messages table) and notes it as the latest; watches every service queue's dead letters
    /// and stalled versions, and fails them; checks the freshness of the KPI days and the KPIs a fold changed for anomalies (reads the
    /// KPI rows, keeps the verdicts and findings). No data files.
    /// </summary>
    public ServiceAccess Notifier { get; } = new(
        "notifier",
        Consumes: [topology.NotifierQueue],
        Publishes: [topology.AlertsTopic],
        Objects: [],
        Tables:
        [
            new(topology.PipelineRunsTable, TableOperations.GetItem | TableOperations.UpdateItem | TableOperations.Query | TableOperations.QueryIndexes)
            {
                OnlyIndexes = [topology.OpenRunsIndex],
            },
            new(topology.ProcessedMessagesTable, TableOperations.GetItem | TableOperations.PutItem | TableOperations.UpdateItem | TableOperations.DeleteItem),
            new(topology.LatestAlertTable, TableOperations.UpdateItem),
            // The freshness check (the window's order KPI rows, its verdicts by day) and the anomaly check of the days a fold
            // changed (their order KPI rows, which hold the categories' revenue too, and their baselines'; its findings).
            new(topology.OrderKpisTable, TableOperations.BatchGetItem),
            new(topology.DataQualityTable, TableOperations.Query | TableOperations.UpdateItem | TableOperations.PutItem),
        ],
        WatchesDeadLetters: [topology.ValidateQueue, topology.ManifestEventsQueue, topology.TransformQueue, topology.ComputeQueue, topology.NotifierQueue]);

    /// <summary>
    /// The web dashboard: reads KPIs and their anomalies, run records and rejected versions' validation reports, and the depth of every
    /// service queue; learns of alerts by polling the latest-alert item (so every dashboard task does); reads the data-quality verdicts.
    /// Writes nothing; "Redrive dead letters" is the AppHost's.
    /// </summary>
    public ServiceAccess Dashboard { get; } = new(
        "dashboard",
        Consumes: [],
        Publishes: [],
        Objects: [new(BucketSpec.ErrorsPrefix, ObjectOperations.Read)], // rejected versions' validation reports
        Tables:
        [
            new(topology.OrderKpisTable, TableOperations.BatchGetItem | TableOperations.Scan),
            new(topology.CategoryKpisTable, TableOperations.Query | TableOperations.Scan),
            new(topology.PipelineRunsTable, TableOperations.Query | TableOperations.QueryIndexes),
            new(topology.LatestAlertTable, TableOperations.GetItem),
            new(topology.DataQualityTable, TableOperations.Query),
        ],
        WatchesDeadLetters: [])
    {
        ReadsQueueDepths = [topology.ValidateQueue, topology.ManifestEventsQueue, topology.TransformQueue, topology.ComputeQueue, topology.NotifierQueue],
    };

    /// <summary>
    /// <c>pipeline reconcile</c>, the stack's scheduled task: reads the archive of the versions in force (processed/, and the
    /// products files outside a batch's folder, which are never archived: the master and data/shared/), their run records
    /// (the version in force and its files' ETags) and their contribution summaries (the days they touch), and the KPI rows;
    /// publishes its result for the Notifier. Writes nothing.
    /// </summary>
    public ServiceAccess Reconciliation { get; } = new(
        "reconcile",
        Consumes: [],
        Publishes: [topology.ReconciliationFinishedTopic],
        Objects:
        [
            new(BucketSpec.ProcessedPrefix, ObjectOperations.Read),
            new(BucketSpec.ProductMasterKey, ObjectOperations.Read) { OnlyThisKey = true },
            new(BucketSpec.SharedPrefix, ObjectOperations.Read),
        ],
        Tables:
        [
            new(topology.PipelineRunsTable, TableOperations.Query),
            new(topology.KpiContributionsTable, TableOperations.GetItem),
            new(topology.OrderKpisTable, TableOperations.BatchGetItem | TableOperations.Scan),
            new(topology.CategoryKpisTable, TableOperations.Query | TableOperations.Scan),
        ],
        WatchesDeadLetters: []);

    /// <summary>
    /// What <c>pipeline rebuild</c> adds to <see cref="Reconciliation"/>: the fold's reads and conditional writes of the day
    /// states, its row writes, and the removal of category rows no day state names, and nothing else (no contribution is
    /// written: a rebuild folds the versions already written). Granted to the scheduled task's role only when the
    /// deployment asks for it.
    /// </summary>
    public ServiceAccess Rebuild { get; } = new(
        "rebuild",
        Consumes: [],
        Publishes: [],
        Objects: [],
        Tables:
        [
            new(topology.KpiContributionsTable, TableOperations.GetItem | TableOperations.BatchGetItem | TableOperations.Query),
            new(topology.KpiDaysTable, TableOperations.GetItem | TableOperations.BatchGetItem | TableOperations.PutItem),
            new(topology.OrderKpisTable, TableOperations.BatchWriteItem),
            // A day's category rows through the index by order date, and a conditional PutItem for each one no state names.
            new(topology.CategoryKpisTable, TableOperations.BatchWriteItem | TableOperations.PutItem | TableOperations.QueryIndexes),
        ],
        WatchesDeadLetters: []);

    /// <summary>The queue workers (each an ECS service scaled on its backlog); the dashboard is a web service apart.</summary>
    public IReadOnlyList<ServiceAccess> All => [Validate, Transform, Compute, Notifier];
}
