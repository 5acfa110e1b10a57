namespace Pipeline.Storage.Runs;

/// <summary>
/// Where a version of a batch stands. <see cref="Running"/> is the only state work happens in; <see cref="Failed"/>
/// can be resumed (a redrive, a late redelivery); the others are final. The transitions, who makes each and what
/// guards it: <see cref="BatchLife"/>.
/// </summary>
public enum RunStatus
{
    /// <summary>In a stage now.</summary>
    Running,

    /// <summary>Folded into the KPIs and in force (an upload), or applied (a retraction).</summary>
    Succeeded,

    /// <summary>Refused by validation (or a retraction with nothing to retract); never in the KPIs.</summary>
    Rejected,

    /// <summary>A stage gave up on it (dead letter) or it stopped moving; a redrive can resume it.</summary>
    Failed,

    /// <summary>A newer version of the batch came first; this one was never folded in.</summary>
    Superseded,

    /// <summary>Was in force, until a newer accepted upload of the same batch replaced it.</summary>
    Replaced,

    /// <summary>Was in force, until a retraction took it out of the KPIs.</summary>
    Retracted,
}

/// <summary>What a version of a batch is: an upload of its files, or a retraction of the upload in force.</summary>
public enum RunKind { Upload, Retraction }

/// <summary>What one stage did for a batch: when, with how many rows, and the error if it failed.</summary>
public sealed record StageRecord(
    string Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyDictionary<string, long> Counts,
    string? Error = null);

/// <summary>Why a version was rejected, kept so that a repeated delivery can announce the same verdict.</summary>
public sealed record RejectionRecord(string Reason, IReadOnlyList<string> FirstErrors, long ErrorCount, string? ReportKey);

/// <summary>What Validate knows when it takes up an upload.</summary>
public sealed record UploadStart(
    string BatchId, string ManifestKey, string? ManifestETag, string ContentId, string? Content, string Source, DateTimeOffset SubmittedAt, string MessageId);

/// <summary>
/// One version of a batch through the pipeline (what Step Functions' execution history gave the old system): an
/// upload (its manifest, content and source) or a retraction, the state of each stage and the outcome. New records come
/// from the factories (<see cref="NewUpload"/>, <see cref="NewRetraction"/>, <see cref="Interrupted"/>).
/// </summary>
/// <param name="Version">1, 2, ... in the order the pipeline took them up; uploads and retractions share the sequence.</param>
/// <param name="ContentId">The upload's identity: a hash of its manifest and every file it lists (key and ETag).</param>
/// <param name="Content">The upload's files as JSON (<see cref="Batches.BatchContent"/>), so later stages and repeated deliveries need no S3 listing.</param>
/// <param name="Attempt">1, then one more each time a failed version is resumed.</param>
/// <param name="OwnerMessage">The id of the message that began or last resumed this version: its redelivery carries on, other copies are duplicates.</param>
/// <param name="ChangedBy">The version that replaced, retracted or superseded this one.</param>
public sealed record PipelineRun(
    string BatchId,
    int Version,
    RunKind Kind,
    string ManifestKey,
    string? ManifestETag,
    string ContentId,
    string? Content,
    string Source,
    RunStatus Status,
    string? CurrentStage,
    DateTimeOffset SubmittedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyDictionary<string, StageRecord> Stages,
    string? Summary,
    int Attempt,
    string? OwnerMessage,
    RejectionRecord? Rejection = null,
    int? ChangedBy = null,
    int? RetractsVersion = null)
{
    /// <summary>An upload about to be taken up (its version is given when it is allocated).</summary>
    public static PipelineRun NewUpload(UploadStart start, DateTimeOffset now) => new(
        start.BatchId, Version: 0, RunKind.Upload, start.ManifestKey, start.ManifestETag, start.ContentId, start.Content, start.Source,
        RunStatus.Running, CurrentStage: null, start.SubmittedAt, UpdatedAt: now, FinishedAt: null, NoStages, Summary: null, Attempt: 1,
        OwnerMessage: start.MessageId);

    /// <summary>A retraction of <paramref name="retractsVersion"/> about to be taken up: a version that contributes nothing.</summary>
    public static PipelineRun NewRetraction(string batchId, string manifestKey, int retractsVersion, string source, string messageId, DateTimeOffset now) =>
        new(
            batchId, Version: 0, RunKind.Retraction, manifestKey, ManifestETag: null, ContentId: $"retraction-of-{retractsVersion}", Content: null, source,
            RunStatus.Running, CurrentStage: null, SubmittedAt: now, UpdatedAt: now, FinishedAt: null, NoStages, Summary: null, Attempt: 1,
            OwnerMessage: messageId, RetractsVersion: retractsVersion);

    /// <summary>
    /// A version allocated for <paramref name="contentId"/> by a delivery that died before writing its record, which newer
    /// content overtook: recorded for the history as superseded.
    /// </summary>
    public static PipelineRun Interrupted(string batchId, int version, string manifestKey, string contentId, DateTimeOffset now) => new(
        batchId, version, RunKind.Upload, manifestKey, ManifestETag: null, contentId, Content: null, Source: "unknown",
        RunStatus.Superseded, CurrentStage: null, SubmittedAt: now, UpdatedAt: now, FinishedAt: now, NoStages,
        Summary: "Interrupted before its run record was written; a newer version came first.", Attempt: 1, OwnerMessage: null);

    private static IReadOnlyDictionary<string, StageRecord> NoStages => new Dictionary<string, StageRecord>();

    public bool IsFinished => Status != RunStatus.Running;

    /// <summary>Work may still happen: running, or failed and resumable.</summary>
    public bool IsOpen => Status is RunStatus.Running or RunStatus.Failed;

    /// <summary>Its data is, or may yet be, in the KPIs (running, in force, or failed and resumable): its order ids stay claimed.</summary>
    public bool MayCount => Status is RunStatus.Running or RunStatus.Succeeded or RunStatus.Failed;

    /// <summary>Whether <paramref name="stage"/> recorded its work as done.</summary>
    public bool HasPassed(string stage) => Stages.GetValueOrDefault(stage)?.Status == StageStatus.Succeeded;

    /// <summary>
    /// Whether this version is still in Validate, begun by <paramref name="messageId"/>: that message's delivery died before
    /// the verdict was recorded, and its redelivery takes the version up again.
    /// </summary>
    public bool AwaitsVerdictFrom(string messageId) => Status == RunStatus.Running && OwnerMessage == messageId && !HasPassed(Runs.Stages.Validate);
}

/// <summary>A submission whose manifest had already been replaced by a newer upload when the pipeline took it up.</summary>
public sealed record SupersededAnnouncement(string ManifestETag, string Source, DateTimeOffset SubmittedAt, DateTimeOffset SeenAt);

/// <summary>How a version came to be handled by the delivery that asked.</summary>
public enum RunBeginKind
{
    /// <summary>A new version was opened for this content: do the work.</summary>
    Started,

    /// <summary>The same message again (its earlier delivery died), or a failed version resumed: carry on where it stands.</summary>
    Resumed,

    /// <summary>Another message for content the latest version already has, running or finished: nothing to do.</summary>
    Duplicate,
}

public sealed record RunBegin(RunBeginKind Kind, PipelineRun Run);

/// <summary>The result of a conditional transition of a version's status.</summary>
public enum TransitionResult
{
    /// <summary>This call made the transition: it alone announces it.</summary>
    Won,

    /// <summary>The version was already in the target state (an earlier delivery made the transition).</summary>
    AlreadyThere,

    /// <summary>The version is in another state that this transition may not leave.</summary>
    Refused,
}
