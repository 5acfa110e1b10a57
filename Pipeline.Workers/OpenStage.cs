using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Storage.Runs;

namespace Pipeline.Workers;

/// <summary>
/// A stage at work on a version (from <see cref="StageRunner.RunAsync"/>): the version's record as the stage took it up,
/// and how the stage ends — closed with its record (<see cref="PassAsync"/>, or <see cref="SucceedAsync"/> for the stage
/// that finishes the version), or ending the version otherwise (<see cref="RejectAsync"/>, <see cref="SupersedeAsync"/>,
/// <see cref="RecordFoldAsync"/>). Each is a row of <see cref="BatchLife"/>'s table, made by this stage.
/// </summary>
public sealed partial class OpenStage(
    PipelineRunStore runs, TimeProvider clock, ILogger<OpenStage> logger, string stage, PipelineRun run, DateTimeOffset startedAt)
{
    public string Stage => stage;

    /// <summary>The version's record when the stage took it up.</summary>
    public PipelineRun Run => run;

    public string BatchId => run.BatchId;

    public int Version => run.Version;

    public DateTimeOffset StartedAt => startedAt;

    public TimeSpan Elapsed => clock.GetUtcNow() - startedAt;

    /// <summary>
    /// The stage's work is done: its record, and the version goes on. The version's record as this left it, or null when the
    /// version stopped running meanwhile (superseded, failed).
    /// </summary>
    public Task<PipelineRun?> PassAsync(IReadOnlyDictionary<string, long> counts, CancellationToken cancellationToken) =>
        runs.RecordStageAsync(BatchId, Version, stage, Done(StageStatus.Succeeded, counts), cancellationToken);

    /// <summary>The version succeeded with this stage's work (Compute): the transition and the stage's record in one write.</summary>
    public Task<TransitionResult> SucceedAsync(string summary, IReadOnlyDictionary<string, long> counts, CancellationToken cancellationToken) =>
        runs.SucceedAsync(BatchId, Version, summary, stage, Done(StageStatus.Succeeded, counts), cancellationToken);

    /// <summary>The version is rejected (Validate): the stage's record says why, then the transition.</summary>
    public async Task<TransitionResult> RejectAsync(RejectionRecord rejection, IReadOnlyDictionary<string, long> counts, CancellationToken cancellationToken)
    {
        await runs.RecordStageAsync(BatchId, Version, stage, Done(StageStatus.Failed, counts, rejection.Reason), cancellationToken).ConfigureAwait(false);
        return await runs.RejectAsync(BatchId, Version, rejection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The version's files were replaced by a newer upload while this stage read them: it is superseded, on condition that
    /// this is still its stage (once a later stage began, the files it needs were read, and their disappearing is the archive).
    /// </summary>
    public async Task<TransitionResult> SupersedeAsync(string reason, CancellationToken cancellationToken)
    {
        LogSuperseded(BatchId, Version, reason);
        return await runs.SupersedeAsync(BatchId, Version, $"Superseded: {reason}; the newer upload is processed on its own submission.", null, stage,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The version was folded into the KPIs (Compute), and the fold brought them to <paramref name="foldedVersion"/>: the
    /// earlier versions it took out of force, or null when a newer version was folded first and this one is superseded.
    /// Throws <see cref="VersionClosingException"/> while the version it takes out has not closed (the delivery is retried).
    /// </summary>
    public async Task<IReadOnlyList<PipelineRun>?> RecordFoldAsync(int foldedVersion, RunStatus outOfForce, CancellationToken cancellationToken)
    {
        var taken = await runs.RecordFoldAsync(BatchId, Version, foldedVersion, outOfForce, cancellationToken).ConfigureAwait(false);
        if (taken is null)
        {
            LogOvertaken(BatchId, Version);
        }
        return taken;
    }

    /// <summary>The stage's metrics (duration, rows, outcome), and its span's outcome.</summary>
    public void Finished(string outcome, IReadOnlyDictionary<string, long> rows) => PipelineTelemetry.StageFinished(stage, outcome, Elapsed, rows);

    private StageRecord Done(string status, IReadOnlyDictionary<string, long> counts, string? error = null) =>
        new(status, startedAt, clock.GetUtcNow(), counts, error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} v{Version}: superseded: {Reason}")]
    private partial void LogSuperseded(string batchId, int version, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version}: superseded by a newer version, folded in first")]
    private partial void LogOvertaken(string batchId, int version);
}
