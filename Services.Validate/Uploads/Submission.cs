namespace Services.Validate.Uploads;

/// <summary>
/// A submission admitted: its batch, the manifest it announces, and every optional fact in place (the batch name from
/// the key, the source from the sender, the time from the envelope, a bare ETag).
/// </summary>
/// <param name="ManifestETag">The manifest's ETag the submission announces (bare), or null to take what is there.</param>
/// <param name="MessageId">The message that brings it: a version it begins is owned by it (its redelivery carries on).</param>
public sealed record Submission(
    string BatchId, string Bucket, string ManifestKey, string? ManifestETag, DateTimeOffset SubmittedAt, string Source, string MessageId)
{
    /// <summary>
    /// Admits <paramref name="message"/>, or refuses it with a <see cref="PoisonMessageException"/> naming the required
    /// field that is missing or wrong, or the field longer than <see cref="FieldLimits"/> allows: such a message is wrong
    /// for good, so it is dead-lettered at once and reported, never retried. Reads nothing.
    /// </summary>
    public static Submission Admit(BatchSubmitted message, MessageContext context, string pipelineBucket, DateTimeOffset now)
    {
        var source = string.IsNullOrWhiteSpace(message.Source) ? context.SourceAddress?.ToString() : message.Source;
        var sourceField = string.IsNullOrWhiteSpace(message.Source) ? "The envelope's sourceAddress" : "BatchSubmitted.source";
        if (FieldLimits.FirstTooLong(
                ("BatchSubmitted.batchId", message.BatchId, FieldLimits.BatchId), ("BatchSubmitted.bucket", message.Bucket, FieldLimits.Bucket),
                ("BatchSubmitted.manifestKey", message.ManifestKey, FieldLimits.Key), ("BatchSubmitted.manifestETag", message.ManifestETag, FieldLimits.ETag),
                (sourceField, source, FieldLimits.Source)) is { } tooLong)
        {
            throw new PoisonMessageException(tooLong);
        }
        if (string.IsNullOrWhiteSpace(message.ManifestKey))
        {
            throw new PoisonMessageException("BatchSubmitted.manifestKey is missing: it is required (data/<batch>/manifest_<batch>.json)");
        }
        if (string.IsNullOrWhiteSpace(message.Bucket))
        {
            throw new PoisonMessageException("BatchSubmitted.bucket is missing: it is required (the pipeline's bucket)");
        }
        string batchId;
        try
        {
            batchId = BatchLayout.BatchNameOf(message.ManifestKey);
        }
        catch (BatchLayoutException e)
        {
            throw new PoisonMessageException($"BatchSubmitted.manifestKey is invalid: {e.Message}");
        }
        if (message.Bucket != pipelineBucket)
        {
            throw new PoisonMessageException($"BatchSubmitted.bucket is invalid: {message.Bucket} is not the pipeline's bucket ({pipelineBucket})");
        }
        if (!string.IsNullOrEmpty(message.BatchId) && message.BatchId != batchId)
        {
            throw new PoisonMessageException($"BatchSubmitted.batchId is invalid: '{message.BatchId}' is not the batch of its manifest key ({batchId})");
        }
        // As S3 headers give it, quoted, or bare as in S3 events: identities use the bare value.
        return new Submission(batchId, message.Bucket, message.ManifestKey, message.ManifestETag is { } etag ? S3BatchStore.BareETag(etag) : null,
            message.SubmittedAt ?? context.SentTime ?? now, source ?? "unknown producer", context.MessageId);
    }
}
