using static Pipeline.Storage.Runs.RunStatus;

namespace Pipeline.Storage.Runs;

/// <summary>
/// A change of a version's status: the states it may leave, the one it reaches, the stages that may make it (a stage
/// name stands for its service; <see cref="Stages.Notify"/> for the Notifier) and what else guards it. Each is made as
/// one conditional write on the version's item (<see cref="PipelineRunStore"/>), so only one delivery makes it.
/// </summary>
public sealed record RunTransition(string Name, IReadOnlyList<RunStatus> From, RunStatus To, IReadOnlyList<string> MadeBy, string Guard)
{
    public bool Leaves(RunStatus status) => From.Contains(status);

    /// <summary>Refuses, as a bug, a transition made by a stage the table does not list for it.</summary>
    public void RequireMadeBy(string stage)
    {
        if (!MadeBy.Contains(stage))
        {
            throw new InvalidOperationException($"The {stage} stage may not {Name} a version; only {string.Join(", ", MadeBy)} may (BatchLife).");
        }
    }

    public override string ToString() => $"{Name}: {(From.Count == 0 ? "(none)" : string.Join("/", From))} -> {To}";
}

/// <summary>How a delivery that brings content relates to the batch's latest version (<see cref="BatchLife.TakeUp"/>).</summary>
public enum TakeUpStep
{
    /// <summary>New content: the next version is allocated for it.</summary>
    NextVersion,

    /// <summary>The latest version is this content, allocated by a delivery that died before writing its record: write it now.</summary>
    WriteAllocated,

    /// <summary>The latest version is this content and failed: resume it, one attempt more.</summary>
    ResumeFailed,

    /// <summary>The latest version is this content, begun by this very message (its earlier delivery died): carry on.</summary>
    CarryOn,

    /// <summary>The latest version is this content, begun by another message: a copy, nothing to do.</summary>
    Duplicate,
}

/// <summary>
/// The batch head's record of what is in force: the newest version recorded as folded into the KPIs and the version
/// recorded before it (the one its fold took out of force); 0 for none.
/// </summary>
public sealed record AppliedVersions(int Applied, int Previous);

/// <summary>Where a version stands once its fold is recorded in the batch's head (<see cref="BatchLife.StandingOfFold"/>).</summary>
/// <param name="OvertakenBy">The newer version folded or recorded first: this one is never in force (it is superseded); null when it is or was.</param>
/// <param name="TookOver">
/// The version this one took out of force when it was recorded (0 for none); null when that is no longer known (a newer
/// version has since taken over from this one).
/// </param>
public sealed record FoldStanding(int? OvertakenBy, int? TookOver);

/// <summary>
/// A batch's life in one place: the run-record state machine. Which transitions exist and who may make each
/// (<see cref="Transitions"/>), and the decisions about a batch that are not a single transition: whether content is a
/// copy of the latest version (<see cref="TakeUp"/>), whether a folded version is in force (<see cref="StandingOfFold"/>)
/// and whether a retraction may happen (<see cref="RetractionRefusal"/>).
/// The questions a batch's history answers are on <see cref="BatchHistory"/> and <see cref="PipelineRun"/>; the writes
/// that carry the transitions out are <see cref="PipelineRunStore"/>'s. Pure: no I/O.
/// </summary>
public static class BatchLife
{
    /// <summary>The stages that take a version up and record their work on it (a stage record, a heartbeat).</summary>
    public static IReadOnlyList<string> WorkingStages { get; } = [Stages.Validate, Stages.Transform, Stages.Compute];

    public static RunTransition Begin { get; } = new(nameof(Begin), [], Running, [Stages.Validate, Stages.Compute],
        "a new version (an upload by Validate, a retraction by Compute): the head's latest_version is still the one read, the version's item does not exist");

    public static RunTransition Resume { get; } = new(nameof(Resume), [Failed], Running, WorkingStages,
        "a failed version taken up again, one attempt more: its content submitted again (Validate), or a stage's message redriven");

    public static RunTransition Reject { get; } = new(nameof(Reject), [Running], Rejected, [Stages.Validate],
        "a rule broken, the upload unreadable or beyond a limit, or its order ids counted in another batch");

    public static RunTransition Succeed { get; } = new(nameof(Succeed), [Running, Failed], Succeeded, [Stages.Compute],
        "folded into the KPIs (or, for a retraction, taken out), with the compute stage's record in the same write; from Failed too: "
        + "a version reported failed whose stage got through anyway succeeded");

    public static RunTransition Fail { get; } = new(nameof(Fail), [Running], Failed, [Stages.Notify],
        "the Notifier's watcher: a dead letter names the version (or the message that began it), or it stalled (only if updated_at is unchanged since seen)");

    public static RunTransition Supersede { get; } = new(nameof(Supersede), [Running, Failed], Superseded, WorkingStages,
        "a newer upload came first: its files replaced this one's under Validate or Transform (only while that is still the current stage), "
        + "or Compute folded a newer version in first");

    public static RunTransition Replace { get; } = new(nameof(Replace), [Succeeded], Replaced, [Stages.Compute],
        "a newer accepted upload of the batch was folded in");

    public static RunTransition Retract { get; } = new(nameof(Retract), [Succeeded], Retracted, [Stages.Compute],
        "a retraction of the batch was folded in");

    /// <summary>Every transition a version's status may make; none other is ever written.</summary>
    public static IReadOnlyList<RunTransition> Transitions { get; } = [Begin, Resume, Reject, Succeed, Fail, Supersede, Replace, Retract];

    /// <summary>The transition that takes a version from <paramref name="from"/> to <paramref name="to"/>, or null when none may.</summary>
    public static RunTransition? Between(RunStatus from, RunStatus to) => Transitions.SingleOrDefault(t => t.Leaves(from) && t.To == to);

    /// <summary>
    /// Is this content a copy of the latest version? Given the batch's head (its latest version and that version's
    /// content id), the latest version's record (null when it was allocated but never written) and the content and
    /// message that ask: what taking the content up means.
    /// </summary>
    public static TakeUpStep TakeUp(int latestVersion, string? latestContent, PipelineRun? latest, string contentId, string? messageId)
    {
        if (latestVersion == 0 || latestContent != contentId)
        {
            return TakeUpStep.NextVersion;
        }
        if (latest is null)
        {
            return TakeUpStep.WriteAllocated;
        }
        if (latest.Status == Failed)
        {
            return TakeUpStep.ResumeFailed;
        }
        return latest.OwnerMessage == messageId ? TakeUpStep.CarryOn : TakeUpStep.Duplicate;
    }

    /// <summary>
    /// Is <paramref name="version"/> in force? Given the version its fold brought the KPIs to (<paramref name="foldedVersion"/>)
    /// and the head once the fold was recorded (<see cref="PipelineRunStore.RecordFoldAsync"/>): the head's record decides,
    /// since folds are recorded one after the other there. A version the head names applied is in force, over the version
    /// before it; one the head names as the version before is still closed as in force (the newer one takes it out once it
    /// has closed); any other was overtaken by a newer version and can never be in force.
    /// </summary>
    public static FoldStanding StandingOfFold(int version, int foldedVersion, AppliedVersions head)
    {
        if (head.Applied == version)
        {
            return new FoldStanding(null, head.Previous);
        }
        return head.Previous == version ? new FoldStanding(null, null) : new FoldStanding(Math.Max(foldedVersion, head.Applied), null);
    }

    /// <summary>
    /// Why a retraction of the batch cannot happen (nothing in force, another version in force than
    /// <paramref name="askedVersion"/>, retracted already), or null when it can: the upload in force is retracted.
    /// </summary>
    public static string? RetractionRefusal(BatchHistory? history, int? askedVersion)
    {
        if (history is null)
        {
            return "no batch of that name was ever submitted";
        }
        if (history.InForce is not { } inForce)
        {
            return history.RetractionInForce is { } earlier
                ? $"it was retracted already (version {earlier.Version}, {earlier.FinishedAt:yyyy-MM-dd HH:mm} UTC); nothing changed"
                : "none of its uploads is in force (none was accepted)";
        }
        return askedVersion is { } asked && asked != inForce.Version
            ? $"version {asked} is not in force (version {inForce.Version} is); nothing changed"
            : null;
    }
}
