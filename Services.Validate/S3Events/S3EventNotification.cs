namespace Services.Validate.S3Events;

/// <summary>
/// S3's own event notification JSON, as S3 delivers it to an SQS queue (only the fields we use).
/// See "Event message structure" in the Amazon S3 user guide.
/// </summary>
public sealed record S3EventNotification(IReadOnlyList<S3EventRecord>? Records);

public sealed record S3EventRecord(string? EventName, DateTimeOffset? EventTime, S3EventEntity? S3);

public sealed record S3EventEntity(S3EventBucket? Bucket, S3EventObject? Object);

public sealed record S3EventBucket(string? Name);

/// <summary>The object's key is URL-encoded in the event (a space arrives as '+').</summary>
public sealed record S3EventObject(string? Key, string? ETag, long? Size);
