namespace Pipeline.Storage.Runs;

/// <summary>The stage names of a run record, in pipeline order.</summary>
public static class Stages
{
    public const string Validate = "validate";
    public const string Transform = "transform";
    public const string Compute = "compute";
    public const string Notify = "notify";

    public const string Running = "Running";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
}
