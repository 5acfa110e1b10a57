namespace Pipeline.Contracts;

// Every message names its batch the same way: a batch is identified by its manifest key together with the manifest's
// content hash (the ETag S3 returns), so a re-submitted manifest with other content is a new batch and a redelivery is not.

/// <summary>A batch is complete in S3 (its manifest was written last) and asks to be processed.</summary>
/// <param name="BatchId">The batch name, usually its date (<c>data/&lt;BatchId&gt;/manifest_&lt;BatchId&gt;.json</c>).</param>
/// <param name="Bucket">The bucket that holds the batch.</param>
/// <param name="ManifestKey">The key of the manifest, which lists the batch's files.</param>
/// <param name="ManifestETag">The manifest's ETag when known (S3 events and <c>pipeline submit</c> know it); null lets Validate read it.</param>
/// <param name="SubmittedAt">When the batch was submitted.</param>
/// <param name="Source">Who submitted it: <c>s3-event</c>, <c>cli</c> or another producer's name.</param>
public sealed record BatchSubmitted(
    string BatchId,
    string Bucket,
    string ManifestKey,
    string? ManifestETag,
    DateTimeOffset SubmittedAt,
    string Source);

/// <summary>Every file of the batch passed validation.</summary>
/// <param name="ReportKey">The validation report in S3.</param>
/// <param name="Files">The validated data files (keys), in the order of the manifest.</param>
public sealed record BatchValidated(
    string BatchId,
    string Bucket,
    string ManifestKey,
    string ManifestETag,
    string ReportKey,
    IReadOnlyList<string> Files,
    long OrderRows,
    long OrderItemRows,
    long ProductRows,
    DateTimeOffset ValidatedAt);

/// <summary>The batch failed validation, or could not be read at all; its files were moved to <c>errors/</c>.</summary>
/// <param name="ManifestETag">Null when the manifest itself could not be read.</param>
/// <param name="Reason">One line a person can act on, such as the rule that failed or the missing file.</param>
/// <param name="FirstErrors">The first errors of the report (a bounded number), so a notification needs no S3 read.</param>
/// <param name="ReportKey">The full report in S3, when one was written.</param>
public sealed record BatchRejected(
    string BatchId,
    string Bucket,
    string ManifestKey,
    string? ManifestETag,
    string Reason,
    IReadOnlyList<string> FirstErrors,
    long ErrorCount,
    string? ReportKey,
    DateTimeOffset RejectedAt);

/// <summary>The batch was enriched (category, order date, typed values) and written compactly under <paramref name="DataPrefix"/>.</summary>
/// <param name="DataKeys">The transformed objects Compute reads.</param>
public sealed record BatchTransformed(
    string BatchId,
    string Bucket,
    string ManifestKey,
    string ManifestETag,
    string DataPrefix,
    IReadOnlyList<string> DataKeys,
    long OrderRows,
    long OrderItemRows,
    DateTimeOffset TransformedAt);

/// <summary>The batch was folded into the KPI tables.</summary>
/// <param name="Days">The order dates whose KPIs changed.</param>
/// <param name="Categories">The categories whose KPIs changed.</param>
/// <param name="CategoryKpiRows">Rows of the category KPI table written (one per category and day touched).</param>
/// <param name="OrderKpiRows">Rows of the order KPI table written (one per day touched).</param>
/// <param name="AlreadyApplied">True when the batch had been folded in before (a redelivery or a re-submission): nothing changed.</param>
public sealed record KpisUpdated(
    string BatchId,
    string ManifestKey,
    string ManifestETag,
    IReadOnlyList<DateOnly> Days,
    IReadOnlyList<string> Categories,
    long CategoryKpiRows,
    long OrderKpiRows,
    bool AlreadyApplied,
    DateTimeOffset UpdatedAt);
