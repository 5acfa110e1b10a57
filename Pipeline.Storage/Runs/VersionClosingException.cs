namespace Pipeline.Storage.Runs;

/// <summary>
/// A fold would take out of force a version that is recorded in force but has not closed yet (Compute is archiving its
/// files before it succeeds): it is not superseded, since its data was in the KPIs. The delivery that recorded the fold
/// fails, and its retry takes that version out once it has succeeded, so the run records and the files moved name it.
/// </summary>
public sealed class VersionClosingException(string batchId, int version, int closing)
    : Exception($"Batch {batchId}: version {version} takes version {closing} out of force, and version {closing} has not closed yet (its fold is recorded, "
        + "its files are being archived); the delivery is retried once it has.");
