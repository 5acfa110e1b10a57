namespace Pipeline.Topology.Access;

/// <summary>
/// The four services and what each one's code calls in AWS today (handlers, Pipeline.Storage, the event bus, the
/// Notifier's failure watcher). Their readiness checks and their task roles in AWS both come from here.
/// </summary>
public sealed class PipelineServices(PipelineTopology topology)
{
    /// <summary>
    /// Reads submitted batches; turns S3 events into submissions; writes the report; on rejection moves the batch to
    /// errors/ (copy, check the copy, delete); answers "already processed" with the earlier outcome.
    /// </summary>
    public ServiceAccess Validate { get; } = new(
        "validate",
        Consumes: [topology.ValidateQueue, topology.ManifestEventsQueue],
        Publishes: [topology.BatchSubmittedTopic, topology.BatchValidatedTopic, topology.BatchRejectedTopic, topology.KpisUpdatedTopic],
        Objects:
        [
            new(BucketSpec.DataPrefix, ObjectOperations.Read | ObjectOperations.Delete),
            new(BucketSpec.ProcessedPrefix, ObjectOperations.Write),
            new(BucketSpec.ErrorsPrefix, ObjectOperations.Read | ObjectOperations.Write),
        ],
        Tables: [new(topology.PipelineRunsTable, TableOperations.GetItem | TableOperations.PutItem | TableOperations.UpdateItem)],
        WatchesDeadLetters: []);

    /// <summary>Reads validated batches and writes their enriched files; never sees errors/ or the KPI tables.</summary>
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

    /// <summary>Folds enriched files into the KPI tables, then moves the raw files to processed/.</summary>
    public ServiceAccess Compute { get; } = new(
        "compute",
        Consumes: [topology.ComputeQueue],
        Publishes: [topology.KpisUpdatedTopic],
        Objects:
        [
            new(BucketSpec.DataPrefix, ObjectOperations.Read | ObjectOperations.Delete),
            new(BucketSpec.TransformedPrefix, ObjectOperations.Read),
            new(BucketSpec.ProcessedPrefix, ObjectOperations.Read | ObjectOperations.Write),
        ],
        Tables:
        [
            new(topology.KpiContributionsTable, TableOperations.BatchWriteItem | TableOperations.Query),
            new(topology.OrderKpisTable, TableOperations.PutItem),
            new(topology.CategoryKpisTable, TableOperations.PutItem),
            new(topology.PipelineRunsTable, TableOperations.UpdateItem),
        ],
        WatchesDeadLetters: []);

    /// <summary>Publishes alerts; watches the stages' dead-letter queues and stalled runs. No data, no KPI tables.</summary>
    public ServiceAccess Notifier { get; } = new(
        "notifier",
        Consumes: [topology.NotifierQueue],
        Publishes: [topology.AlertsTopic],
        Objects: [],
        Tables: [new(topology.PipelineRunsTable, TableOperations.GetItem | TableOperations.UpdateItem | TableOperations.Scan)],
        WatchesDeadLetters: [topology.ValidateQueue, topology.TransformQueue, topology.ComputeQueue]);

    public IReadOnlyList<ServiceAccess> All => [Validate, Transform, Compute, Notifier];
}
