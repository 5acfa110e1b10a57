namespace Pipeline.Storage.Runs;

/// <summary>The stages of a run record, in pipeline order: the keys of its <c>stages</c> map and the values of <c>current_stage</c>.</summary>
public static class Stages
{
    public const string Validate = "validate";
    public const string Transform = "transform";
    public const string Compute = "compute";

    /// <summary>The Notifier's: an alert about the version was sent.</summary>
    public const string Notify = "notify";
}

/// <summary>What a stage's record says of its work (<see cref="StageRecord.Status"/>), as opposed to the version's <see cref="RunStatus"/>.</summary>
public static class StageStatus
{
    public const string Running = "Running";
    public const string Succeeded = "Succeeded";

    /// <summary>The stage ended the version otherwise: Validate's record of a rejection.</summary>
    public const string Failed = "Failed";
}
