using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Storage.Runs;

namespace Pipeline.Workers;

/// <summary>
/// The one shape of a handler, and the template of a stage's turn on a version (Validate, Transform, Compute). A handler
/// first checks its message on its own (a message wrong for good is poison, refused before anything is read), then
/// <see cref="BeginBatch"/>: every line it logs carries the batch. Once it knows the version, <see cref="RunAsync"/> opens
/// the stage on it (the version's record says the stage is at work), checks the message against the record, keeps the
/// version's heartbeat while the work runs, and the work ends by closing the stage or ending the version
/// (<see cref="OpenStage"/>). When there is nothing left for the stage to do — the version finished otherwise, or this
/// stage's work is done (a late or repeated message) — the handler's <see cref="StageWork.NothingToDoAsync"/> gets the
/// record as it is, to announce again what was done in case the delivery that did it died before announcing it.
/// </summary>
public sealed class StageRunner(PipelineRunStore runs, TimeProvider clock, ILogger<OpenStage> logger)
{
    /// <summary>
    /// Tags the current span with the batch (and names the trace after it when this service began the trace: a batch
    /// announced without trace context) and opens a log scope naming it (<c>BatchId</c>) until disposed.
    /// </summary>
    public static IDisposable? BeginBatch(ILogger logger, string batchId)
    {
        PipelineTelemetry.NameTrace(batchId);
        return logger.BeginScope(new Dictionary<string, object> { ["BatchId"] = batchId });
    }

    /// <summary>Runs <paramref name="stage"/>'s turn on the version (inside its span <c>{stage} batch</c>).</summary>
    public async Task RunAsync(string stage, string batchId, int version, StageWork work, CancellationToken cancellationToken)
    {
        using var activity = PipelineTelemetry.StartStage(stage, batchId);
        var startedAt = clock.GetUtcNow();
        if (await runs.StartStageAsync(batchId, version, stage, cancellationToken).ConfigureAwait(false) is not { } run)
        {
            var now = await runs.GetAsync(batchId, version, cancellationToken).ConfigureAwait(false);
            await work.NothingToDoAsync(now, cancellationToken).ConfigureAwait(false);
            return;
        }
        work.Check?.Invoke(run);
        await using var heartbeat = runs.KeepAlive(batchId, version);
        await work.DoAsync(new OpenStage(runs, clock, logger, stage, run, startedAt), cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>What a handler does once it asks a stage to work on a version.</summary>
/// <param name="DoAsync">The stage's work; it ends by closing the stage or ending the version (<see cref="OpenStage"/>).</param>
/// <param name="NothingToDoAsync">The stage had nothing to do; given the version's record as it is now (null when there is none).</param>
/// <param name="Check">Checks the message against the version's record; throws a PoisonMessageException when they disagree for good.</param>
public sealed record StageWork(
    Func<OpenStage, CancellationToken, Task> DoAsync,
    Func<PipelineRun?, CancellationToken, Task> NothingToDoAsync,
    Action<PipelineRun>? Check = null);
