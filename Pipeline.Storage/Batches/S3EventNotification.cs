using System.Net;

namespace Pipeline.Storage.Batches;

/// <summary>
/// S3's own event notification JSON, as S3 delivers it to an SQS queue (only the fields we use): how Validate hears of a
/// manifest written, and how the Notifier's watcher tells which batch a dead-lettered event was about.
/// See "Event message structure" in the Amazon S3 user guide.
/// </summary>
public sealed record S3EventNotification(IReadOnlyList<S3EventRecord>? Records);

public sealed record S3EventRecord(string? EventName, DateTimeOffset? EventTime, S3EventEntity? S3)
{
    public bool IsObjectCreated => EventName?.StartsWith("ObjectCreated:", StringComparison.Ordinal) == true;

    /// <summary>The object's key, decoded: S3 URL-encodes keys in events, with '+' for a space.</summary>
    public string? Key => S3?.Object?.Key is { } encoded ? WebUtility.UrlDecode(encoded) : null;

    /// <summary>
    /// The key when it is shaped as a manifest's (<c>data/&lt;batch&gt;/manifest_&lt;batch&gt;.json</c>; the names are
    /// checked by <see cref="BatchLayout.BatchNameOf"/>).
    /// </summary>
    public string? ManifestKey => Key is { } key && BatchLayout.IsManifestKey(key) ? key : null;
}

public sealed record S3EventEntity(S3EventBucket? Bucket, S3EventObject? Object);

public sealed record S3EventBucket(string? Name);

/// <summary>The object's key is URL-encoded in the event (a space arrives as '+').</summary>
public sealed record S3EventObject(string? Key, string? ETag, long? Size);
