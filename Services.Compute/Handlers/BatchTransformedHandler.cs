using EventBus;
using Pipeline.Contracts;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Transform;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;

namespace Services.Compute.Handlers;

/// <summary>
/// The Compute stage: folds a transformed batch into the cumulative KPI tables (exactly, see docs/kpi-storage.md),
/// moves the raw files to <c>processed/</c>, closes the run and announces what changed.
/// </summary>
public sealed partial class BatchTransformedHandler(
    S3BatchStore batches, DynamoKpiStore kpis, PipelineRunStore runs, IEventBus bus, TimeProvider clock, ILogger<BatchTransformedHandler> logger) : IIntegrationEventHandler<BatchTransformed>
{
    public async Task HandleAsync(BatchTransformed transformed, MessageContext context, CancellationToken cancellationToken)
    {
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["BatchId"] = transformed.BatchId });
        using var activity = PipelineTelemetry.StartStage(Stages.Compute, transformed.BatchId);
        var started = clock.GetUtcNow();
        await runs.RecordStageAsync(transformed.BatchId, transformed.ManifestETag, Stages.Compute,
            new StageRecord(Stages.Running, started, null, new Dictionary<string, long>()), cancellationToken).ConfigureAwait(false);

        var partial = await ReadBatchAsync(transformed, cancellationToken).ConfigureAwait(false);

        // The batch identity (manifest key and content) keys its contributions: a redelivery adds nothing twice.
        var update = await kpis.AddBatchAsync(BatchLayout.Identity(transformed.ManifestKey, transformed.ManifestETag), partial, cancellationToken).ConfigureAwait(false);

        // The raw files go to processed/ unless a newer upload of this batch name has replaced the manifest meanwhile
        // (its files are not ours to move). Null: an earlier delivery already moved the manifest.
        var current = await batches.ManifestETagAsync(transformed.Bucket, transformed.ManifestKey, cancellationToken).ConfigureAwait(false);
        if (current is null || current == transformed.ManifestETag)
        {
            var raw = await batches.ListBatchKeysAsync(transformed.Bucket, transformed.BatchId, cancellationToken).ConfigureAwait(false);
            await batches.ArchiveAsync(transformed.Bucket, transformed.BatchId, raw, BatchLayout.ProcessedPrefix, cancellationToken).ConfigureAwait(false);
        }

        var finished = clock.GetUtcNow();
        await runs.RecordStageAsync(transformed.BatchId, transformed.ManifestETag, Stages.Compute, new StageRecord(Stages.Succeeded, started, finished,
            new Dictionary<string, long>
            {
                ["days"] = update.Days.Count,
                ["categories"] = update.Categories.Count,
                ["order_kpi_rows"] = update.OrderRows,
                ["category_kpi_rows"] = update.CategoryRows,
            }), cancellationToken).ConfigureAwait(false);
        await runs.FinishAsync(transformed.BatchId, transformed.ManifestETag, RunStatus.Succeeded,
            $"{transformed.OrderRows} orders and {transformed.OrderItemRows} items folded into the KPIs of {update.Days.Count} days and {update.Categories.Count} categories",
            cancellationToken).ConfigureAwait(false);
        LogComputed(transformed.BatchId, update.Days.Count, update.Categories.Count, finished - started);
        PipelineTelemetry.StageFinished(Stages.Compute, "succeeded", finished - started, new Dictionary<string, long>
        {
            ["orders"] = transformed.OrderRows,
            ["order_items"] = transformed.OrderItemRows,
        });

        await bus.PublishAsync(new KpisUpdated(transformed.BatchId, transformed.ManifestKey, transformed.ManifestETag, update.Days, update.Categories,
            update.CategoryRows, update.OrderRows, AlreadyApplied: false, finished), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the batch's enriched files (in parallel, one accumulator each) into one KPI partial.</summary>
    private async Task<KpiPartial> ReadBatchAsync(BatchTransformed transformed, CancellationToken cancellationToken)
    {
        var parts = await Task.WhenAll(transformed.DataKeys.Select(key => Task.Run(() => batches.ReadAsync(transformed.Bucket, key, stream =>
        {
            var categories = new CategoryIndex();
            var accumulator = new KpiAccumulator(categories);
            EnrichedFile.ReadInto(stream, accumulator, categories);
            return accumulator.ToPartial();
        }, cancellationToken), cancellationToken))).ConfigureAwait(false);
        return KpiPartial.Merge(parts);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: KPIs updated for {Days} days and {Categories} categories in {Elapsed}")]
    private partial void LogComputed(string batchId, int days, int categories, TimeSpan elapsed);
}
