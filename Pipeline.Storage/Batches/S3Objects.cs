using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace Pipeline.Storage.Batches;

/// <summary>What reading and moving batches in S3 both need: ETags as identities, and an object that may be missing.</summary>
internal static class S3Objects
{
    /// <summary>S3 quotes ETags in headers but not in event notifications; identities use the bare value.</summary>
    public static string BareETag(string etag) => etag.Trim('"');

    public static string Quoted(string bareETag) => $"\"{bareETag}\"";

    public static DateTimeOffset Utc(DateTime time) =>
        new(time.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(time, DateTimeKind.Utc) : time.ToUniversalTime());

    public static bool IsMissing(AmazonS3Exception e) => e.ErrorCode is "NoSuchKey" or "NotFound" || e.StatusCode == HttpStatusCode.NotFound;

    /// <summary>The object's metadata (a HEAD), or null when there is no object at that key.</summary>
    public static async Task<GetObjectMetadataResponse?> MetadataAsync(this IAmazonS3 s3, string bucket, string key, CancellationToken cancellationToken)
    {
        try
        {
            return await s3.GetObjectMetadataAsync(bucket, key, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (IsMissing(e))
        {
            return null;
        }
    }

    /// <summary>Every key under <paramref name="prefix"/>.</summary>
    public static async Task<IReadOnlyList<string>> ListKeysAsync(this IAmazonS3 s3, string bucket, string prefix, CancellationToken cancellationToken) =>
        (await s3.ListObjectsAsync(bucket, prefix, int.MaxValue, cancellationToken).ConfigureAwait(false)).Objects.Select(o => o.Key).ToList();

    /// <summary>
    /// The objects under <paramref name="prefix"/> (key, ETag, size, when written), a thousand a request, up to
    /// <paramref name="atMost"/>; <c>Complete</c> is false when more were left unlisted.
    /// </summary>
    public static async Task<(IReadOnlyList<S3Object> Objects, bool Complete)> ListObjectsAsync(this IAmazonS3 s3, string bucket, string prefix, int atMost,
        CancellationToken cancellationToken)
    {
        var objects = new List<S3Object>();
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
        ListObjectsV2Response page;
        do
        {
            page = await s3.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            objects.AddRange(page.S3Objects ?? []);
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true && objects.Count < atMost);
        return (objects, page.IsTruncated != true);
    }

    /// <summary>
    /// Whether an object was written after <paramref name="limit"/>, to the second: a listing gives times to the millisecond,
    /// a HEAD or GET (where limits come from) to the second.
    /// </summary>
    public static bool WrittenAfter(DateTime? written, DateTimeOffset? limit) =>
        written is { } time && limit is { } at && Utc(time).ToUnixTimeSeconds() > at.ToUnixTimeSeconds();
}
