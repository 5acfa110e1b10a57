namespace Pipeline.Storage.Runs;

public enum RunStatus { Running, Succeeded, Rejected, Failed }

/// <summary>What one stage did for a batch: when, with how many rows, and the error if it failed.</summary>
public sealed record StageRecord(
    string Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyDictionary<string, long> Counts,
    string? Error = null);

/// <summary>
/// The record of one batch through the pipeline (what Step Functions' execution history gave the old system):
/// its identity (manifest key and ETag), the state of each stage, and the outcome.
/// </summary>
public sealed record PipelineRun(
    string BatchId,
    string ManifestKey,
    string ManifestETag,
    string Source,
    RunStatus Status,
    string? CurrentStage,
    DateTimeOffset SubmittedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyDictionary<string, StageRecord> Stages,
    string? Summary)
{
    public bool IsFinished => Status != RunStatus.Running;
}

/// <summary>How <see cref="PipelineRunStore.BeginAsync"/> found the batch.</summary>
public enum RunStart
{
    /// <summary>First time this batch (manifest key and ETag) is seen: a new run.</summary>
    Started,

    /// <summary>The same batch is already under way: a redelivery; carry on (stages are idempotent).</summary>
    InProgress,

    /// <summary>The same batch already finished: nothing to do, report "already processed".</summary>
    AlreadyProcessed,
}
