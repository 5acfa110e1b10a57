using Pipeline.Storage.Curated;
using Pipeline.Storage.Kpis;

namespace Services.Compute.Handlers;

/// <summary>
/// Takes a batch's data out of the KPIs: the upload in force is retracted by a new version of the batch that
/// contributes nothing, folded in like any other (so it is exact, and races with uploads of the same batch resolve by
/// version); the retracted upload's files move to <c>retracted/&lt;batch&gt;/v&lt;n&gt;/</c> and its Parquet leaves
/// <c>curated/</c> (<see cref="CuratedPublisher"/>) before the retraction is announced. A batch with nothing in
/// force, or another version in force than the one asked for, is refused (<see cref="BatchRetractionRefused"/>); asking
/// again for a retraction already made changes nothing. A request without a batch name, or with a field longer than
/// <see cref="FieldLimits"/> allows, is poison.
/// </summary>
public sealed partial class BatchRetractionRequestedHandler(
    BatchArchive archives, DynamoKpiStore kpis, PipelineRunStore runs, StageRunner stages, CuratedPublisher curated, IEventBus bus, PipelineTopology topology,
    TimeProvider clock, ILogger<BatchRetractionRequestedHandler> logger) : IIntegrationEventHandler<BatchRetractionRequested>
{
    public async Task HandleAsync(BatchRetractionRequested request, MessageContext context, CancellationToken cancellationToken)
    {
        RequireValidRequest(request, context);
        using var batch = StageRunner.BeginBatch(logger, request.BatchId);
        if (await TakeUpAsync(request, context, cancellationToken).ConfigureAwait(false) is not { } retraction)
        {
            return;
        }
        await stages.RunAsync(Stages.Compute, request.BatchId, retraction, new StageWork(
            (stage, ct) => RetractAsync(request, stage, ct),
            (run, ct) => AnnounceAgainIfSucceededAsync(request, run, ct)), cancellationToken).ConfigureAwait(false);
    }

    private static void RequireValidRequest(BatchRetractionRequested request, MessageContext context)
    {
        if (string.IsNullOrWhiteSpace(request.BatchId))
        {
            throw new PoisonMessageException("BatchRetractionRequested.batchId is missing: it is required");
        }
        if (FieldLimits.FirstTooLong(
                ("BatchRetractionRequested.batchId", request.BatchId, FieldLimits.BatchId),
                ("BatchRetractionRequested.reason", request.Reason, FieldLimits.Reason),
                (string.IsNullOrWhiteSpace(request.Source) ? "The envelope's sourceAddress" : "BatchRetractionRequested.source",
                    Source(request, context), FieldLimits.Source))
            is { } tooLong)
        {
            throw new PoisonMessageException(tooLong);
        }
    }

    /// <summary>
    /// The retraction version this request is about: the one it opened already (its redelivery carries on), or a new one
    /// for the upload in force; null when the request is refused (<see cref="BatchLife.RetractionRefusal"/>) or a copy.
    /// </summary>
    private async Task<int?> TakeUpAsync(BatchRetractionRequested request, MessageContext context, CancellationToken cancellationToken)
    {
        if (!BatchLayout.IsBatchName(request.BatchId))
        {
            await RefuseAsync(request, $"'{request.BatchId}' is not a batch name", context.MessageId, cancellationToken).ConfigureAwait(false);
            return null;
        }
        var history = await runs.GetHistoryAsync(request.BatchId, cancellationToken).ConfigureAwait(false);
        if (history?.RetractionBegunBy(context.MessageId) is { } begun)
        {
            return begun.Version;
        }
        if (BatchLife.RetractionRefusal(history, request.Version) is { } why)
        {
            await RefuseAsync(request, why, context.MessageId, cancellationToken).ConfigureAwait(false);
            return null;
        }
        var target = history!.InForce!;
        var begin = await runs.BeginRetractionAsync(request.BatchId, target.ManifestKey, target.Version, Source(request, context), context.MessageId,
            cancellationToken).ConfigureAwait(false);
        if (begin.Kind == RunBeginKind.Duplicate)
        {
            LogDuplicate(request.BatchId, begin.Run.Version);
            return null;
        }
        return begin.Run.Version;
    }

    private async Task RetractAsync(BatchRetractionRequested request, OpenStage stage, CancellationToken cancellationToken)
    {
        var fold = await kpis.RetractAsync(request.BatchId, stage.Version, cancellationToken).ConfigureAwait(false);
        if (await stage.RecordFoldAsync(fold.AppliedVersion, RunStatus.Retracted, cancellationToken).ConfigureAwait(false) is null)
        {
            return;
        }

        var retracted = await RetractedVersionAsync(stage.Run, cancellationToken).ConfigureAwait(false);
        var archive = BatchLayout.VersionFolder(BatchLayout.RetractedPrefix, request.BatchId, retracted);
        var processed = BatchLayout.VersionFolder(BatchLayout.ProcessedPrefix, request.BatchId, retracted);
        var moved = await archives.MoveFolderAsync(topology.Bucket.Name, processed, archive, cancellationToken).ConfigureAwait(false);
        var reason = string.IsNullOrWhiteSpace(request.Reason) ? "" : $" ({request.Reason})";
        var summary = $"Version {retracted} retracted{reason}: taken out of the KPIs of {fold.Days.Count} days; its files are in {archive}";
        if (await stage.SucceedAsync(summary, new Dictionary<string, long> { ["days"] = fold.Days.Count, ["files_moved"] = moved }, cancellationToken)
                .ConfigureAwait(false) == TransitionResult.Refused)
        {
            return;
        }
        LogRetracted(request.BatchId, retracted, fold.Days.Count);
        logger.LogCurated(request.BatchId, await curated.SyncAsync(topology.Bucket.Name, request.BatchId, cancellationToken).ConfigureAwait(false));
        await AnnounceAsync(request, stage.Run, fold.Days, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A repeated delivery of a retraction that succeeded: bring <c>curated/</c> to the batch's version in force (the first
    /// delivery may have died before) and announce it again (the Notifier alerts once).
    /// </summary>
    private async Task AnnounceAgainIfSucceededAsync(BatchRetractionRequested request, PipelineRun? retraction, CancellationToken cancellationToken)
    {
        if (retraction is { Status: RunStatus.Succeeded })
        {
            logger.LogCurated(request.BatchId, await curated.SyncAsync(topology.Bucket.Name, request.BatchId, cancellationToken).ConfigureAwait(false));
            var fold = (await kpis.FoldAsync(request.BatchId, cancellationToken).ConfigureAwait(false))!;
            await AnnounceAsync(request, retraction, fold.Days, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AnnounceAsync(
        BatchRetractionRequested request, PipelineRun retraction, IReadOnlyList<DateOnly> days, CancellationToken cancellationToken)
    {
        var retracted = await RetractedVersionAsync(retraction, cancellationToken).ConfigureAwait(false);
        await bus.PublishAsync(new BatchRetracted(request.BatchId, retraction.Version, retracted, request.Reason, days,
            BatchLayout.VersionFolder(BatchLayout.RetractedPrefix, request.BatchId, retracted), clock.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> RetractedVersionAsync(PipelineRun retraction, CancellationToken cancellationToken) =>
        (await runs.GetHistoryAsync(retraction.BatchId, cancellationToken).ConfigureAwait(false))!.RetractedBy(retraction);

    private static string Source(BatchRetractionRequested request, MessageContext context) =>
        string.IsNullOrWhiteSpace(request.Source) ? context.SourceAddress?.ToString() ?? "unknown producer" : request.Source;

    private Task RefuseAsync(BatchRetractionRequested request, string why, string requestId, CancellationToken cancellationToken)
    {
        LogRefused(request.BatchId, why);
        return bus.PublishAsync(new BatchRetractionRefused(request.BatchId, request.Version, why, requestId, clock.GetUtcNow()), cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: version {Version} retracted from the KPIs of {Days} days")]
    private partial void LogRetracted(string batchId, int version, int days);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: the same retraction is version {Version} already; nothing to do")]
    private partial void LogDuplicate(string batchId, int version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: retraction refused: {Reason}")]
    private partial void LogRefused(string batchId, string reason);
}
