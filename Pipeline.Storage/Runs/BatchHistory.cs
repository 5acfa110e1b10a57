namespace Pipeline.Storage.Runs;

/// <summary>
/// Everything about a batch name: its versions, newest last, the one whose data is in the KPIs now, and the
/// announcements that came too late to be processed. The questions the services ask about a batch are asked here, by name.
/// </summary>
/// <param name="AppliedVersion">The newest version folded into the KPIs (an upload, or a retraction that emptied them); 0 for none.</param>
public sealed record BatchHistory(
    string BatchId,
    int LatestVersion,
    int AppliedVersion,
    IReadOnlyList<PipelineRun> Versions,
    IReadOnlyList<SupersededAnnouncement> Superseded)
{
    /// <summary>Which version is in force: the accepted upload whose data is in the KPIs, or null (none yet, or retracted).</summary>
    public PipelineRun? InForce => Versions.SingleOrDefault(v => v.Version == AppliedVersion && v.Kind == RunKind.Upload);

    public PipelineRun? Latest => Versions.LastOrDefault();

    /// <summary>The retraction whose empty data is what the KPIs hold of the batch now, or null.</summary>
    public PipelineRun? RetractionInForce =>
        Versions.LastOrDefault(v => v.Kind == RunKind.Retraction && v.Status == RunStatus.Succeeded) is { } retraction && retraction.Version == AppliedVersion
            ? retraction
            : null;

    public PipelineRun? Version(int version) => Versions.SingleOrDefault(v => v.Version == version);

    /// <summary>The latest upload that took up the manifest with <paramref name="manifestETag"/>.</summary>
    public PipelineRun? UploadOfManifest(string manifestETag) =>
        Versions.LastOrDefault(v => v.Kind == RunKind.Upload && v.ManifestETag == manifestETag);

    /// <summary>
    /// The version a submission whose manifest is no longer in <c>data/</c> is about: the upload of the manifest it
    /// announced, or, when it announced none, the latest version if that one has finished (and so has moved its files).
    /// </summary>
    public PipelineRun? VersionOfSubmission(string? manifestETag) => manifestETag is not null
        ? UploadOfManifest(manifestETag)
        : Latest is { IsFinished: true, ManifestETag: not null } latest ? latest : null;

    /// <summary>Whether any upload of the batch was read (its manifest found): a manifest gone since may have been overwritten by one.</summary>
    public bool AnyUploadRead => Versions.Any(v => v.Kind == RunKind.Upload && v.ManifestETag is not null);

    /// <summary>The version that <paramref name="messageId"/> began or last resumed.</summary>
    public PipelineRun? VersionBegunBy(string messageId) => Versions.LastOrDefault(v => v.OwnerMessage == messageId);

    /// <summary>The retraction that the request <paramref name="messageId"/> opened (its redelivery carries on with it).</summary>
    public PipelineRun? RetractionBegunBy(string messageId) =>
        Versions.LastOrDefault(v => v.Kind == RunKind.Retraction && v.OwnerMessage == messageId);

    /// <summary>The versions that <paramref name="version"/> replaced when it was folded in.</summary>
    public IReadOnlyList<int> ReplacedBy(int version) =>
        Versions.Where(v => v.ChangedBy == version && v.Status == RunStatus.Replaced).Select(v => v.Version).ToList();

    /// <summary>The upload <paramref name="retraction"/> took out of force: the one it was asked for, or one accepted in between.</summary>
    public int RetractedBy(PipelineRun retraction) =>
        Versions.LastOrDefault(v => v.Status == RunStatus.Retracted && v.ChangedBy == retraction.Version)?.Version ?? retraction.RetractsVersion!.Value;

    /// <summary>
    /// The version a fold that took over <paramref name="tookOver"/> must let close first: that version while it is still
    /// open — recorded in force, its files being archived (or its delivery to come back) — so that it is taken out once it
    /// has succeeded, never superseded; null when it has closed, or is not known.
    /// </summary>
    public PipelineRun? StillClosing(int? tookOver) => tookOver is { } over ? Versions.SingleOrDefault(v => v.Version == over && v.IsOpen) : null;

    /// <summary>
    /// The earlier versions a fold of <paramref name="version"/> takes out: those in force (replaced or retracted) and those
    /// still under way or failed (superseded: they can never be folded in after it).
    /// </summary>
    public IEnumerable<PipelineRun> TakenOutByFoldOf(int version) =>
        Versions.Where(v => v.Version < version && v.Status is RunStatus.Running or RunStatus.Failed or RunStatus.Succeeded);
}
