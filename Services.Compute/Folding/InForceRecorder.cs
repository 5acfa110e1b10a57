using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;

namespace Services.Compute.Folding;

/// <summary>
/// Records in the run history what a fold put in force: the version applied, earlier versions taken out of force
/// (replaced or retracted, or superseded if they were still under way). If the fold found a newer version of the batch
/// already written, the version that asked is superseded instead: it will never be in the KPIs.
/// </summary>
public sealed partial class InForceRecorder(PipelineRunStore runs, ILogger<InForceRecorder> logger)
{
    /// <returns>The earlier uploads this version took out of force, or null when a newer version superseded this one.</returns>
    public async Task<IReadOnlyList<PipelineRun>?> RecordAsync(string batchId, int version, KpiFold fold, RunStatus outOfForce, CancellationToken cancellationToken)
    {
        if (fold.AppliedVersion > version)
        {
            LogSuperseded(batchId, version, fold.AppliedVersion);
            await runs.SupersedeAsync(batchId, version, $"Superseded by version {fold.AppliedVersion}, which was folded in first.", fold.AppliedVersion, null, cancellationToken)
                .ConfigureAwait(false);
            return null;
        }
        await runs.AdvanceAppliedAsync(batchId, version, cancellationToken).ConfigureAwait(false);
        return await runs.TakeOutOfForceAsync(batchId, version, outOfForce, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version}: superseded by v{Newer}, already folded in")]
    private partial void LogSuperseded(string batchId, int version, int newer);
}
