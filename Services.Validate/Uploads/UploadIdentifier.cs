using Pipeline.Engine.Validation;

namespace Services.Validate.Uploads;

/// <summary>Which upload a submission is about (<see cref="UploadIdentifier"/>).</summary>
public abstract record Identified
{
    private Identified()
    {
    }

    /// <summary>
    /// An upload to take up: its content (the manifest and every listed file, with their ETags), and what makes it
    /// unreadable or beyond a limit, if anything, with the rule it breaks (then only its manifest is known).
    /// </summary>
    public sealed record Upload(BatchContent Content, string? Problem = null, string Rule = ValidationRule.UnreadableManifest) : Identified;

    /// <summary>A newer upload replaced the announced manifest before its turn: noted in the history, never processed.</summary>
    public sealed record Overwritten(string ManifestETag) : Identified;

    /// <summary>
    /// An upload a version took up already, whose files are archived or being archived; <paramref name="Content"/> is what
    /// is left to finish (the files of the manifest there now), or null when nothing is.
    /// </summary>
    public sealed record TakenUp(PipelineRun Version, BatchContent? Content) : Identified;
}

/// <summary>
/// Finds which upload a submission is about, reading the manifest once — on condition that it is the one announced, or
/// after a HEAD when none is — (a HEAD again only when the upload cannot be read, to tell a broken upload from one
/// archived or replaced meanwhile) and the history only when the manifest is gone or unreadable. An upload is its
/// content: the manifest and every listed file, with their ETags.
/// </summary>
public sealed partial class UploadIdentifier(S3BatchStore batches, PipelineRunStore runs, ILogger<UploadIdentifier> logger)
{
    public async Task<Identified> IdentifyAsync(Submission submission, CancellationToken cancellationToken)
    {
        // An announced manifest is read on condition that it is still the one announced: no HEAD before (a round trip less).
        var etag = submission.ManifestETag;
        if (etag is null)
        {
            if (await batches.ManifestAsync(submission.Bucket, submission.ManifestKey, cancellationToken).ConfigureAwait(false) is not { } manifest)
            {
                return await ManifestGoneAsync(submission, null, cancellationToken).ConfigureAwait(false);
            }
            etag = manifest.ETag;
        }
        try
        {
            var batch = await batches.OpenAsync(submission.Bucket, submission.ManifestKey, etag, cancellationToken).ConfigureAwait(false);
            return new Identified.Upload(batch.Content);
        }
        catch (BatchChangedException)
        {
            // Replaced: announced by its own submission. Gone altogether (an S3 may answer a missing key's conditional read so): as if never read.
            return await batches.ManifestAsync(submission.Bucket, submission.ManifestKey, cancellationToken).ConfigureAwait(false) is null
                ? await ManifestGoneAsync(submission, etag, cancellationToken).ConfigureAwait(false)
                : new Identified.Overwritten(etag);
        }
        catch (BatchLayoutException e)
        {
            // Never there, archived (the manifest moves last) or replaced while it was being read: a file missing now says
            // nothing about the upload.
            var now = await batches.ManifestAsync(submission.Bucket, submission.ManifestKey, cancellationToken).ConfigureAwait(false);
            if (now is null)
            {
                return await ManifestGoneAsync(submission, etag, cancellationToken).ConfigureAwait(false);
            }
            if (now.ETag != etag)
            {
                return new Identified.Overwritten(etag);
            }
            if (await TakenUpAlreadyAsync(submission, now, cancellationToken).ConfigureAwait(false) is { } takenUp)
            {
                return takenUp;
            }
            // The manifest is all this upload can be known by: only it moves to errors/, the files stay for the next upload.
            var manifestOnly = new BatchContent(submission.ManifestKey, now.ETag, []) { ManifestLastModified = now.LastModified };
            return new Identified.Upload(manifestOnly, e.Message, e.Rule);
        }
    }

    /// <summary>
    /// The manifest is not in <c>data/</c>: the version this submission is about was processed and archived (a rejected
    /// one's announcement is finished, in case the delivery that moved its files died before it), or the submission was
    /// overwritten before its turn by an upload processed since, or there never was a manifest (a rejection).
    /// </summary>
    private async Task<Identified> ManifestGoneAsync(Submission submission, string? manifestETag, CancellationToken cancellationToken)
    {
        var history = await runs.GetHistoryAsync(submission.BatchId, cancellationToken).ConfigureAwait(false);
        if (history?.VersionOfSubmission(manifestETag) is { } processed)
        {
            LogAlreadyArchived(submission.BatchId, processed.Version, processed.Status);
            return new Identified.TakenUp(processed, processed is { Status: RunStatus.Rejected, Content: { } content } ? BatchContent.FromJson(content) : null);
        }
        if (manifestETag is not null && history?.AnyUploadRead == true)
        {
            return new Identified.Overwritten(manifestETag);
        }
        return new Identified.Upload(BatchContent.Missing(submission.ManifestKey),
            $"the manifest {submission.ManifestKey} does not exist in bucket {submission.Bucket}");
    }

    /// <summary>
    /// Whether a version already took this manifest up: then its files are missing because they are being archived, or
    /// were by a delivery that died half-way (the manifest moves last), not because a new upload is incomplete — unless
    /// this message is the one that began it and the version still awaits its verdict (its delivery died before the verdict
    /// was recorded; a version in Validate has moved no file, since a rejection is recorded before its files move).
    /// </summary>
    private async Task<Identified.TakenUp?> TakenUpAlreadyAsync(Submission submission, ManifestVersion manifest, CancellationToken cancellationToken)
    {
        var history = await runs.GetHistoryAsync(submission.BatchId, cancellationToken).ConfigureAwait(false);
        if (history?.UploadOfManifest(manifest.ETag) is not { } known || known.AwaitsVerdictFrom(submission.MessageId))
        {
            return null;
        }
        LogBeingArchived(submission.BatchId, known.Version, known.Status);
        // The files of the manifest there now (the same upload, or the same files uploaded again) are the ones to move.
        return new Identified.TakenUp(known,
            known.Content is { } json ? BatchContent.FromJson(json) with { ManifestLastModified = manifest.LastModified } : null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: this upload was processed as v{Version} ({Status}) and archived; nothing to do")]
    private partial void LogAlreadyArchived(string batchId, int version, RunStatus status);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Batch {BatchId}: this upload is v{Version} ({Status}), whose files are being archived; nothing to take up")]
    private partial void LogBeingArchived(string batchId, int version, RunStatus status);
}
