using Pipeline.Storage.Batches;

namespace Reliability.Tests.Scenario;

/// <summary>The alert a version is to end with.</summary>
public enum ExpectedAlert
{
    Succeeded,
    Rejected,
    Retracted,

    /// <summary>The same content as the version in force: a duplicate, which ends without an alert.</summary>
    None,
}

/// <summary>What a planned upload or retraction is, and how it must end.</summary>
public sealed class PlannedVersion
{
    public required string Batch { get; init; }

    /// <summary>The version number it is to get (an identical re-upload gets none: the version it repeats).</summary>
    public required int Version { get; init; }

    public required ExpectedAlert Alert { get; init; }

    /// <summary>What it is, for reports (good, large, replacement, rejected: invalid status, ...).</summary>
    public required string Kind { get; init; }

    /// <summary>The local folder of its files (uploads only): the engine's input for the expected KPIs.</summary>
    public string? Folder { get; init; }

    /// <summary>Its data is in the KPIs at the end: accepted, and neither replaced nor retracted.</summary>
    public bool InForce { get; set; }

    /// <summary>Where its raw files end (processed/, errors/ or retracted/); null for a retraction.</summary>
    public string? Archive { get; set; }

    /// <summary>The upload could not be read as a batch (a missing file, a manifest naming files outside it): only its manifest moves.</summary>
    public bool OnlyManifestMoves { get; init; }

    /// <summary>The keys it uploaded, relative to <c>data/&lt;batch&gt;/</c> (the manifest included).</summary>
    public List<string> RawFiles { get; } = [];

    public override string ToString() => $"{Batch} v{Version} ({Kind})";
}

/// <summary>Every version the run planned, by batch, in the order they were planned.</summary>
public sealed class BatchPlan
{
    private readonly List<PlannedVersion> _versions = [];

    public IReadOnlyList<PlannedVersion> Versions
    {
        get
        {
            lock (_versions)
            {
                return [.. _versions];
            }
        }
    }

    public PlannedVersion Add(PlannedVersion version)
    {
        lock (_versions)
        {
            _versions.Add(version);
        }
        return version;
    }

    /// <summary>The keys of a folder's files as an upload of it lays them out under <c>data/&lt;batch&gt;/</c>, and its manifest.</summary>
    public static IEnumerable<string> RawFilesOf(string folder, string batch) =>
        Directory.EnumerateFiles(folder, "*.csv", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Append(BatchLayout.ManifestKey(batch)[BatchLayout.BatchPrefix(batch).Length..]);
}
