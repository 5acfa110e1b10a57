using EventBus;
using Pipeline.Contracts;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;
using Pipeline.Topology;
using Services.Compute.Folding;

namespace Services.Compute.Handlers;

/// <summary>
/// Takes a batch's data out of the KPIs: the upload in force is retracted by a new version of the batch that
/// contributes nothing, folded in like any other (so it is exact, and races with uploads of the same batch resolve by
/// version); the retracted upload's files move to <c>retracted/&lt;batch&gt;/v&lt;n&gt;/</c>. A batch with nothing in
/// force, or another version in force than the one asked for, is refused; asking again for a retraction already made
/// changes nothing. A request without a batch name, or with a field longer than <see cref="FieldLimits"/> allows, is poison.
/// </summary>
public sealed partial class BatchRetractionRequestedHandler(
    S3BatchStore batches, DynamoKpiStore kpis, PipelineRunStore runs, InForceRecorder inForce, IEventBus bus, PipelineTopology topology, TimeProvider clock,
    ILogger<BatchRetractionRequestedHandler> logger) : IIntegrationEventHandler<BatchRetractionRequested>
{
    public async Task HandleAsync(BatchRetractionRequested request, MessageContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.BatchId))
        {
            throw new PoisonMessageException("BatchRetractionRequested.batchId is missing: it is required");
        }
        if (FieldLimits.FirstTooLong(
                ("BatchRetractionRequested.batchId", request.BatchId, FieldLimits.BatchId), ("BatchRetractionRequested.reason", request.Reason, FieldLimits.Reason),
                (string.IsNullOrWhiteSpace(request.Source) ? "The envelope's sourceAddress" : "BatchRetractionRequested.source", Source(request, context), FieldLimits.Source))
            is { } tooLong)
        {
            throw new PoisonMessageException(tooLong);
        }
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["BatchId"] = request.BatchId });
        if (!BatchLayout.IsBatchName(request.BatchId))
        {
            await RefuseAsync(request, $"'{request.BatchId}' is not a batch name", cancellationToken).ConfigureAwait(false);
            return;
        }

        var history = await runs.GetHistoryAsync(request.BatchId, cancellationToken).ConfigureAwait(false);
        // This very request again (its earlier delivery died, or it was redriven): carry on with the version it opened.
        var retraction = history?.Versions.LastOrDefault(v => v.Kind == RunKind.Retraction && v.OwnerMessage == context.MessageId);
        if (retraction is null)
        {
            if (Refusal(request, history) is { } why)
            {
                await RefuseAsync(request, why, cancellationToken).ConfigureAwait(false);
                return;
            }
            var target = history!.InForce!;
            var begin = await runs.BeginRetractionAsync(request.BatchId, target.ManifestKey, target.Version, Source(request, context), context.MessageId, cancellationToken)
                .ConfigureAwait(false);
            if (begin.Kind == RunBeginKind.Duplicate)
            {
                LogDuplicate(request.BatchId, begin.Run.Version);
                return;
            }
            retraction = begin.Run;
        }

        switch (retraction.Status)
        {
            case RunStatus.Running or RunStatus.Failed:
                await RetractAsync(request, retraction, cancellationToken).ConfigureAwait(false);
                return;
            case RunStatus.Succeeded:
                await AnnounceAsync(request, retraction, (await kpis.FoldAsync(request.BatchId, cancellationToken).ConfigureAwait(false))!.Days, cancellationToken)
                    .ConfigureAwait(false);
                return;
            default:
                return; // superseded by a newer upload meanwhile
        }
    }

    private async Task RetractAsync(BatchRetractionRequested request, PipelineRun retraction, CancellationToken cancellationToken)
    {
        using var activity = PipelineTelemetry.StartStage(Stages.Compute, request.BatchId);
        var started = clock.GetUtcNow();
        await runs.StartStageAsync(request.BatchId, retraction.Version, Stages.Compute, cancellationToken).ConfigureAwait(false);
        var fold = await kpis.RetractAsync(request.BatchId, retraction.Version, cancellationToken).ConfigureAwait(false);
        if (await inForce.RecordAsync(request.BatchId, retraction.Version, fold, RunStatus.Retracted, cancellationToken).ConfigureAwait(false) is null)
        {
            return;
        }

        // The upload this retraction took out of force: the one it was asked for, or one accepted in between.
        var retracted = await RetractedVersionAsync(retraction, cancellationToken).ConfigureAwait(false);
        var moved = await batches.MoveFolderAsync(topology.Bucket.Name, BatchLayout.VersionFolder(BatchLayout.ProcessedPrefix, request.BatchId, retracted),
            BatchLayout.VersionFolder(BatchLayout.RetractedPrefix, request.BatchId, retracted), cancellationToken).ConfigureAwait(false);
        var stage = new StageRecord(StageStatus.Succeeded, started, clock.GetUtcNow(), new Dictionary<string, long> { ["days"] = fold.Days.Count, ["files_moved"] = moved });
        var reason = string.IsNullOrWhiteSpace(request.Reason) ? "" : $" ({request.Reason})";
        if (await runs.SucceedAsync(request.BatchId, retraction.Version,
                $"Version {retracted} retracted{reason}: taken out of the KPIs of {fold.Days.Count} days; its files are in " +
                BatchLayout.VersionFolder(BatchLayout.RetractedPrefix, request.BatchId, retracted), Stages.Compute, stage, cancellationToken).ConfigureAwait(false)
            == TransitionResult.Refused)
        {
            return;
        }
        LogRetracted(request.BatchId, retracted, fold.Days.Count);
        await AnnounceAsync(request, retraction, fold.Days, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Announces a retraction that succeeded (again, for a repeated delivery: the Notifier alerts once).</summary>
    private async Task AnnounceAsync(BatchRetractionRequested request, PipelineRun retraction, IReadOnlyList<DateOnly> days, CancellationToken cancellationToken)
    {
        var retracted = await RetractedVersionAsync(retraction, cancellationToken).ConfigureAwait(false);
        await bus.PublishAsync(new BatchRetracted(request.BatchId, retraction.Version, retracted, request.Reason, days,
            BatchLayout.VersionFolder(BatchLayout.RetractedPrefix, request.BatchId, retracted), clock.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> RetractedVersionAsync(PipelineRun retraction, CancellationToken cancellationToken) =>
        (await runs.GetHistoryAsync(retraction.BatchId, cancellationToken).ConfigureAwait(false))!.Versions
            .LastOrDefault(v => v.Status == RunStatus.Retracted && v.ChangedBy == retraction.Version)?.Version ?? retraction.RetractsVersion!.Value;

    /// <summary>Why the request cannot be carried out, or null when the batch has the version it names (or any) in force.</summary>
    private static string? Refusal(BatchRetractionRequested request, BatchHistory? history)
    {
        if (history?.InForce is not { } inForce)
        {
            return history?.Versions.LastOrDefault(v => v.Kind == RunKind.Retraction && v.Status == RunStatus.Succeeded) is { } earlier
                   && history.AppliedVersion == earlier.Version
                ? $"it was retracted already (version {earlier.Version}, {earlier.FinishedAt:yyyy-MM-dd HH:mm} UTC); nothing changed"
                : history is null ? "no batch of that name was ever submitted" : "none of its uploads is in force (none was accepted)";
        }
        return request.Version is { } asked && asked != inForce.Version
            ? $"version {asked} is not in force (version {inForce.Version} is); nothing changed"
            : null;
    }

    private static string Source(BatchRetractionRequested request, MessageContext context) =>
        string.IsNullOrWhiteSpace(request.Source) ? context.SourceAddress?.ToString() ?? "unknown producer" : request.Source;

    private Task RefuseAsync(BatchRetractionRequested request, string why, CancellationToken cancellationToken)
    {
        LogRefused(request.BatchId, why);
        var manifestKey = BatchLayout.IsBatchName(request.BatchId) ? BatchLayout.ManifestKey(request.BatchId) : request.BatchId;
        return bus.PublishAsync(new BatchRejected(request.BatchId, topology.Bucket.Name, manifestKey, null, $"retraction refused: {why}", [], 0, null, clock.GetUtcNow()),
            cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: version {Version} retracted from the KPIs of {Days} days")]
    private partial void LogRetracted(string batchId, int version, int days);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: the same retraction is version {Version} already; nothing to do")]
    private partial void LogDuplicate(string batchId, int version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: retraction refused: {Reason}")]
    private partial void LogRefused(string batchId, string reason);
}
