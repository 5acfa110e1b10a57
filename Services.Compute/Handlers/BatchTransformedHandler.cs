using Pipeline.Engine.Csv;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Transform;
using Pipeline.Storage.Curated;
using Pipeline.Storage.Kpis;

namespace Services.Compute.Handlers;

/// <summary>
/// The Compute stage: writes a transformed version's contribution and folds the batch into the KPI tables (exactly,
/// see docs/kpi-storage.md), replacing whatever earlier version of the batch was in force; moves the version's raw
/// files to <c>processed/&lt;batch&gt;/v&lt;n&gt;/</c> and closes the run while it brings the batch's Parquet under <c>curated/</c>
/// to the version in force (<see cref="CuratedPublisher"/>), and announces what changed: the announcement means both are there.
/// </summary>
public sealed partial class BatchTransformedHandler(
    S3BatchStore batches, BatchArchive archive, DynamoKpiStore kpis, PipelineRunStore runs, StageRunner stages, CuratedPublisher curated, IEventBus bus,
    PipelineTopology topology, TimeProvider clock, ILogger<BatchTransformedHandler> logger) : IIntegrationEventHandler<BatchTransformed>
{
    public async Task HandleAsync(BatchTransformed transformed, MessageContext context, CancellationToken cancellationToken)
    {
        RequireOwnData(transformed);
        using var batch = StageRunner.BeginBatch(logger, transformed.BatchId);
        await stages.RunAsync(Stages.Compute, transformed.BatchId, transformed.Version, new StageWork(
            (stage, ct) => FoldAsync(transformed, stage, ct),
            (run, ct) => AnnounceAgainIfSucceededAsync(transformed, run, ct)), cancellationToken).ConfigureAwait(false);
    }

    private async Task FoldAsync(BatchTransformed transformed, OpenStage stage, CancellationToken cancellationToken)
    {
        // The version's Parquet is written while the fold waits on DynamoDB; uploaded once the version is in force.
        await using var draft = curated.Draft(transformed.Bucket, transformed.BatchId, transformed.Version, cancellationToken);
        var data = await ReadBatchAsync(transformed, cancellationToken).ConfigureAwait(false);
        var fold = await kpis.AddBatchAsync(transformed.BatchId, transformed.Version, data, cancellationToken).ConfigureAwait(false);
        if (await stage.RecordFoldAsync(fold.AppliedVersion, RunStatus.Replaced, cancellationToken).ConfigureAwait(false) is not { } replaced)
        {
            return;
        }
        var folded = stage.Elapsed; // the KPIs are updated; archiving and curated/ follow

        var categories = data.CategoryDays.Select(c => c.Category).Distinct().Order(StringComparer.Ordinal).ToList();
        var counts = new Dictionary<string, long>
        {
            ["days"] = fold.Days.Count,
            ["categories"] = categories.Count,
            ["order_kpi_rows"] = fold.OrderRows,
            ["category_kpi_rows"] = fold.CategoryRows,
        };
        var summary = $"{transformed.OrderRows} orders and {transformed.OrderItemRows} items folded into the KPIs of " +
            $"{fold.Days.Count} days and {categories.Count} categories" +
            (replaced.Count == 0 ? "" : $", replacing version {string.Join(", ", replaced.Select(r => r.Version))}");
        // The version is in force from here on: curated/ is brought to it while its raw files are archived and its run closed.
        var syncing = curated.SyncAsync(transformed.Bucket, transformed.BatchId, draft, cancellationToken);
        var closing = ArchiveAndSucceedAsync(transformed, stage, summary, counts, cancellationToken);
        await Task.WhenAll(syncing, closing).ConfigureAwait(false);
        if (await closing.ConfigureAwait(false) == TransitionResult.Refused)
        {
            return; // a newer version took this one out of force first: its own sync brings curated/ to it
        }
        LogComputed(transformed.BatchId, transformed.Version, fold.Days.Count, categories.Count, folded);
        logger.LogCurated(transformed.BatchId, await syncing.ConfigureAwait(false));
        stage.Finished("succeeded", new Dictionary<string, long>
        {
            [TableNames.Orders] = transformed.OrderRows,
            [TableNames.OrderItems] = transformed.OrderItemRows,
        });

        await bus.PublishAsync(new KpisUpdated(transformed.BatchId, transformed.ManifestKey, transformed.Version, replaced.Select(r => r.Version).ToList(),
            fold.Days, categories, fold.CategoryRows, fold.OrderRows, clock.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves exactly this version's raw files (same ETags, never a newer upload's) to <c>processed/</c>, then closes the run.</summary>
    private async Task<TransitionResult> ArchiveAndSucceedAsync(BatchTransformed transformed, OpenStage stage, string summary,
        Dictionary<string, long> counts, CancellationToken cancellationToken)
    {
        var content = BatchContent.FromJson(stage.Run.Content!);
        await archive.ArchiveAsync(transformed.Bucket, transformed.BatchId, transformed.Version, content, BatchLayout.ProcessedPrefix, cancellationToken)
            .ConfigureAwait(false);
        return await stage.SucceedAsync(summary, counts, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A repeated delivery of a version that already succeeded: the first may have died between recording the outcome
    /// and announcing it (or while writing <c>curated/</c>, or failed to), so bring <c>curated/</c> to the version in force
    /// and announce it again (the Notifier alerts once, however often it hears it).
    /// </summary>
    private async Task AnnounceAgainIfSucceededAsync(BatchTransformed transformed, PipelineRun? run, CancellationToken cancellationToken)
    {
        LogNothingToDo(transformed.BatchId, transformed.Version, run?.Status);
        if (run is { Status: RunStatus.Succeeded })
        {
            logger.LogCurated(transformed.BatchId, await curated.SyncAsync(transformed.Bucket, transformed.BatchId, cancellationToken).ConfigureAwait(false));
            // Folding again changes nothing and tells which days the version touches.
            var fold = (await kpis.FoldAsync(transformed.BatchId, cancellationToken).ConfigureAwait(false))!;
            var replaced = (await runs.GetHistoryAsync(transformed.BatchId, cancellationToken).ConfigureAwait(false))!.ReplacedBy(run.Version);
            await bus.PublishAsync(new KpisUpdated(transformed.BatchId, transformed.ManifestKey, transformed.Version, replaced, fold.Days, [],
                fold.CategoryRows, fold.OrderRows, clock.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Poison unless the message names the pipeline's bucket and only files in its version's folder under
    /// <c>transformed/</c>, which only Transform writes: a message from elsewhere cannot have another batch's data, or
    /// any other object, folded into this batch's KPIs.
    /// </summary>
    private void RequireOwnData(BatchTransformed transformed)
    {
        if (transformed.Bucket != topology.Bucket.Name)
        {
            throw new PoisonMessageException($"BatchTransformed.bucket is invalid: {transformed.Bucket} is not the pipeline's bucket ({topology.Bucket.Name})");
        }
        if (!BatchLayout.IsBatchName(transformed.BatchId))
        {
            throw new PoisonMessageException("BatchTransformed.batchId is invalid: it is not a batch name");
        }
        var folder = BatchLayout.VersionFolder(BatchLayout.TransformedPrefix, transformed.BatchId, transformed.Version);
        if (transformed.DataKeys.FirstOrDefault(key => !BatchLayout.IsInFolder(folder, key)) is { } outside)
        {
            throw new PoisonMessageException(
                $"BatchTransformed.dataKeys is invalid: '{outside[..Math.Min(outside.Length, 200)]}' is not in the version's folder {folder}");
        }
    }

    /// <summary>Reads the version's enriched files (in parallel, one accumulator each) into one KPI partial.</summary>
    private async Task<KpiPartial> ReadBatchAsync(BatchTransformed transformed, CancellationToken cancellationToken)
    {
        var parts = await Task.WhenAll(transformed.DataKeys.Select(key =>
            Task.Run(() => batches.ReadAsync(transformed.Bucket, key, EnrichedFile.ReadPartial, cancellationToken), cancellationToken))).ConfigureAwait(false);
        return KpiPartial.Merge(parts);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version}: KPIs updated for {Days} days and {Categories} categories in {Elapsed}")]
    private partial void LogComputed(string batchId, int version, int days, int categories, TimeSpan elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version}: not running ({Status}); nothing to fold")]
    private partial void LogNothingToDo(string batchId, int version, RunStatus? status);
}
