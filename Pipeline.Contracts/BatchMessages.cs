namespace Pipeline.Contracts;

// A batch is a name (data/<BatchId>/...). Each upload of it, and each retraction, is a version of the batch,
// numbered 1, 2, ... by the pipeline when it takes it up; the version's content (manifest and files, with their
// ETags) is in its run record. Messages after BatchSubmitted name the version they are about.

/// <summary>
/// A batch is complete in S3 (its manifest was written last) and asks to be processed. Only <paramref name="Bucket"/>
/// and <paramref name="ManifestKey"/> are required — what any producer knows; the rest is derived when absent (the
/// batch name from the key, the source from the envelope's sender, the time from the envelope's sent time, the ETag
/// from S3). A submission without them, or with a key that is not a manifest key, is refused at once (poison).
/// </summary>
/// <param name="BatchId">The batch name, usually its date (<c>data/&lt;BatchId&gt;/manifest_&lt;BatchId&gt;.json</c>); must match the key when given.</param>
/// <param name="Bucket">The bucket that holds the batch (the pipeline's).</param>
/// <param name="ManifestKey">The key of the manifest, which lists the batch's files.</param>
/// <param name="ManifestETag">
/// The manifest's ETag when known (S3 events and <c>pipeline submit</c> know it): a submission whose manifest has been
/// replaced since is recognised as superseded. Null lets Validate take what is there.
/// </param>
/// <param name="SubmittedAt">When the batch was submitted.</param>
/// <param name="Source">Who submitted it: <c>s3-event</c>, <c>cli</c> or another producer's name.</param>
public sealed record BatchSubmitted(
    string? BatchId,
    string Bucket,
    string ManifestKey,
    string? ManifestETag = null,
    DateTimeOffset? SubmittedAt = null,
    string? Source = null);

/// <summary>Every file of the version passed validation, and its order ids are counted nowhere else.</summary>
/// <param name="Version">The version of the batch (its run record holds the files and their ETags).</param>
/// <param name="ContentId">The version's content identity (a hash of its manifest and files with their ETags).</param>
/// <param name="ReportKey">The validation report in S3.</param>
public sealed record BatchValidated(
    string BatchId,
    string Bucket,
    string ManifestKey,
    int Version,
    string ContentId,
    string ReportKey,
    long OrderRows,
    long OrderItemRows,
    long ProductRows,
    DateTimeOffset ValidatedAt);

/// <summary>The version failed validation, or could not be read at all; its files were moved to <c>errors/&lt;batch&gt;/v&lt;n&gt;/</c>.</summary>
/// <param name="Version">The version rejected (nullable only as the wire format has it: Validate always names one).</param>
/// <param name="Reason">One line a person can act on, such as the rule that failed or the missing file.</param>
/// <param name="FirstErrors">The first errors of the report (a bounded number), so a notification needs no S3 read.</param>
/// <param name="ReportKey">The full report in S3, when one was written.</param>
public sealed record BatchRejected(
    string BatchId,
    string Bucket,
    string ManifestKey,
    int? Version,
    string Reason,
    IReadOnlyList<string> FirstErrors,
    long ErrorCount,
    string? ReportKey,
    DateTimeOffset RejectedAt);

/// <summary>The version was enriched (category, order date, typed values) and written compactly under <paramref name="DataPrefix"/>.</summary>
/// <param name="DataKeys">The transformed objects Compute reads.</param>
public sealed record BatchTransformed(
    string BatchId,
    string Bucket,
    string ManifestKey,
    int Version,
    string DataPrefix,
    IReadOnlyList<string> DataKeys,
    long OrderRows,
    long OrderItemRows,
    DateTimeOffset TransformedAt);

/// <summary>The version was folded into the KPI tables and is the one in force.</summary>
/// <param name="ReplacedVersions">Earlier versions of the batch whose data it replaced (empty for a batch's first accepted upload).</param>
/// <param name="Days">The order dates whose KPIs changed.</param>
/// <param name="Categories">The categories of the version's data.</param>
/// <param name="CategoryKpiRows">Rows of the category KPI table written.</param>
/// <param name="OrderKpiRows">Rows of the order KPI table written.</param>
public sealed record KpisUpdated(
    string BatchId,
    string ManifestKey,
    int Version,
    IReadOnlyList<int> ReplacedVersions,
    IReadOnlyList<DateOnly> Days,
    IReadOnlyList<string> Categories,
    long CategoryKpiRows,
    long OrderKpiRows,
    DateTimeOffset UpdatedAt);

/// <summary>Asks for a batch's data to be taken out of the KPIs (any producer may send it; <c>pipeline retract</c> does).</summary>
/// <param name="BatchId">The batch (required).</param>
/// <param name="Version">
/// The version to retract, when the sender knows which one it means: if another version is in force by then, the
/// request is refused. Null: whatever version is in force.
/// </param>
/// <param name="Reason">Why, in a person's words (shown in the alert and the run history).</param>
/// <param name="Source">Who asks; the envelope's sender when absent.</param>
public sealed record BatchRetractionRequested(
    string BatchId,
    int? Version = null,
    string? Reason = null,
    DateTimeOffset? RequestedAt = null,
    string? Source = null);

/// <summary>
/// The batch's data was taken out of the KPIs: version <paramref name="Version"/> (a retraction) retracted
/// <paramref name="RetractedVersion"/>.
/// </summary>
/// <param name="ArchiveFolder">Where the retracted version's files are now (<c>retracted/&lt;batch&gt;/v&lt;n&gt;/</c>).</param>
public sealed record BatchRetracted(
    string BatchId,
    int Version,
    int RetractedVersion,
    string? Reason,
    IReadOnlyList<DateOnly> Days,
    string ArchiveFolder,
    DateTimeOffset RetractedAt);

/// <summary>
/// A retraction request was not carried out, and nothing changed: the batch has nothing in force (never submitted, none
/// accepted, retracted already), another version is in force than the one asked for, or the name is no batch name.
/// </summary>
/// <param name="Version">The version the request asked for, when it named one.</param>
/// <param name="Reason">Why, in a person's words.</param>
/// <param name="RequestId">The id of the request's message: one request is refused (and alerted) once, however often it is delivered.</param>
public sealed record BatchRetractionRefused(
    string BatchId,
    int? Version,
    string Reason,
    string RequestId,
    DateTimeOffset RefusedAt);

/// <summary>
/// The files of a version that succeeded were uploaded again, unchanged (the same content, so nothing runs again): they
/// are back under <c>data/&lt;batch&gt;/</c> and belong in the version's archive, which Compute keeps.
/// </summary>
/// <param name="Version">The version whose content was uploaded again.</param>
/// <param name="ContentId">That version's content id (its manifest and files, with their ETags).</param>
public sealed record BatchUploadRepeated(
    string BatchId,
    string Bucket,
    string ManifestKey,
    int Version,
    string ContentId,
    DateTimeOffset RepeatedAt);
