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
/// force is refused; asking again for a retraction already made changes nothing.
/// </summary>
public sealed partial class BatchRetractionRequestedHandler(
    S3BatchStore batches, DynamoKpiStore kpis, PipelineRunStore runs, InForceRecorder inForce, IEventBus bus, PipelineTopology topology, TimeProvider clock,
    ILogger<BatchRetractionRequestedHandler> logger) : IIntegrationEventHandler<BatchRetractionRequested>
{
    public async Task HandleAsync(BatchRetractionRequested request, MessageContext context, CancellationToken cancellationToken)
    {
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["BatchId"] = request.BatchId });
        if (!BatchLayout.IsBatchName(request.BatchId))
        {
            await RefuseAsync(request, $"'{request.BatchId}' is not a batch name", cancellationToken).ConfigureAwait(false);
            return;
        }
        var history = await runs.GetHistoryAsync(request.BatchId, cancellationToken).ConfigureAwait(false);
        var retraction = history?.Latest is { Kind: RunKind.Retraction } latest && latest.OwnerMessage == context.MessageId ? latest : null;
        if (retraction is null)
        {
            if (history?.InForce is not { } target)
            {
                await RefuseAsync(request, WhyNothingToRetract(history), cancellationToken).ConfigureAwait(false);
                return;
            }
            var begin = await runs.BeginRetractionAsync(request.BatchId, target.ManifestKey, target.Version, request.Source, context.MessageId, cancellationToken)
                .ConfigureAwait(false);
            if (begin.Kind == RunBeginKind.Duplicate)
            {
                LogDuplicate(request.BatchId, begin.Run.Version);
                return;
            }
            retraction = begin.Run;
        }
        if (retraction.Status is not (RunStatus.Running or RunStatus.Succeeded))
        {
            return; // superseded by a newer upload meanwhile
        }

        using var activity = PipelineTelemetry.StartStage(Stages.Compute, request.BatchId);
        var started = clock.GetUtcNow();
        var retracted = retraction.RetractsVersion!.Value;
        await runs.StartStageAsync(request.BatchId, retraction.Version, Stages.Compute, cancellationToken).ConfigureAwait(false);
        var fold = await kpis.RetractAsync(request.BatchId, retraction.Version, cancellationToken).ConfigureAwait(false);
        if (await inForce.RecordAsync(request.BatchId, retraction.Version, fold, RunStatus.Retracted, cancellationToken).ConfigureAwait(false) is null)
        {
            return;
        }

        var from = BatchLayout.VersionFolder(BatchLayout.ProcessedPrefix, request.BatchId, retracted);
        var to = BatchLayout.VersionFolder(BatchLayout.RetractedPrefix, request.BatchId, retracted);
        var moved = await batches.MoveFolderAsync(topology.Bucket.Name, from, to, cancellationToken).ConfigureAwait(false);

        await runs.RecordStageAsync(request.BatchId, retraction.Version, Stages.Compute, new StageRecord(Stages.Succeeded, started, clock.GetUtcNow(),
            new Dictionary<string, long> { ["days"] = fold.Days.Count, ["files_moved"] = moved }), cancellationToken).ConfigureAwait(false);
        var reason = string.IsNullOrWhiteSpace(request.Reason) ? "" : $" ({request.Reason})";
        if (await runs.SucceedAsync(request.BatchId, retraction.Version,
                $"Version {retracted} retracted{reason}: taken out of the KPIs of {fold.Days.Count} days; its files are in {to}", cancellationToken)
                .ConfigureAwait(false) == TransitionResult.Refused)
        {
            return;
        }
        LogRetracted(request.BatchId, retracted, fold.Days.Count);
        await bus.PublishAsync(new BatchRetracted(request.BatchId, retraction.Version, retracted, request.Reason, fold.Days, to, clock.GetUtcNow()), cancellationToken)
            .ConfigureAwait(false);
    }

    private static string WhyNothingToRetract(BatchHistory? history) =>
        history?.Versions.LastOrDefault(v => v.Kind == RunKind.Retraction && v.Status == RunStatus.Succeeded) is { } earlier && history.AppliedVersion == earlier.Version
            ? $"it was retracted already (version {earlier.Version}, {earlier.FinishedAt:yyyy-MM-dd HH:mm} UTC); nothing changed"
            : history is null ? "no batch of that name was ever submitted" : "none of its uploads is in force (none was accepted)";

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
