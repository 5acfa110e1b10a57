using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using static Pipeline.Storage.Batches.S3Objects;

namespace Pipeline.Storage.Batches;

/// <summary>
/// Moves a version's files between the bucket's folders: out of <c>data/</c> into the version's archive
/// (<c>errors/</c>, <c>processed/</c>) and from one archive to another (<c>retracted/</c>). Nothing is deleted before its
/// copy exists, and nothing is moved that is not the version's own (docs/pipeline.md, "Batches in S3").
/// </summary>
public sealed class BatchArchive(IAmazonS3 s3)
{
    /// <summary>
    /// Moves one upload — the files its manifest lists inside the batch's folder, never a shared product master or
    /// another batch's file, then the manifest — to its version's folder under <paramref name="archivePrefix"/>. A file
    /// is moved only while it is still the upload's (same ETag, written no later than the manifest): a newer upload's
    /// files stay. Each original is deleted only after its copy is confirmed, and only if it is still that object
    /// (S3's conditional delete). Returns the keys written.
    /// </summary>
    public async Task<IReadOnlyList<string>> ArchiveAsync(string bucket, string batchName, int version, BatchContent content, string archivePrefix,
        CancellationToken cancellationToken)
    {
        var files = content.Files.Select(f => (f.Key, f.ETag))
            .Where(o => BatchLayout.IsInBatchFolder(batchName, o.Key)).Distinct()
            .Select(o => (o.Key, o.ETag, Target: BatchLayout.ArchiveKey(batchName, version, archivePrefix, o.Key))).ToList();
        var moved = new bool[files.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), RequestConcurrency.Options(cancellationToken),
            async (i, ct) => moved[i] = await MoveAsync(bucket, files[i].Key, files[i].Target, files[i].ETag, content.ManifestLastModified, ct)
                .ConfigureAwait(false))
            .ConfigureAwait(false);
        var targets = files.Where((_, i) => moved[i]).Select(f => f.Target).ToList();

        // The manifest last: while it is in data/, every file it lists is there too (or was never uploaded).
        if (content.ManifestETag.Length > 0)
        {
            var manifestTarget = BatchLayout.ArchiveKey(batchName, version, archivePrefix, content.ManifestKey);
            if (await MoveAsync(bucket, content.ManifestKey, manifestTarget, content.ManifestETag, content.ManifestLastModified, cancellationToken)
                .ConfigureAwait(false))
            {
                targets.Add(manifestTarget);
            }
        }
        return targets;
    }

    /// <summary>Moves everything under one folder to another (a retracted version's archive), copy first, delete after.</summary>
    public async Task<int> MoveFolderAsync(string bucket, string fromFolder, string toFolder, CancellationToken cancellationToken)
    {
        var keys = await s3.ListKeysAsync(bucket, fromFolder, cancellationToken).ConfigureAwait(false);
        var moved = 0;
        await Parallel.ForEachAsync(keys, RequestConcurrency.Options(cancellationToken), async (key, ct) =>
        {
            if (await MoveAsync(bucket, key, toFolder + key[fromFolder.Length..], expectedETag: null, writtenBy: null, ct).ConfigureAwait(false))
            {
                Interlocked.Increment(ref moved);
            }
        }).ConfigureAwait(false);
        return moved;
    }

    /// <summary>Copy, confirm the copy, then delete the original; false when the source is gone or is no longer the expected object.</summary>
    private async Task<bool> MoveAsync(string bucket, string source, string target, string? expectedETag, DateTimeOffset? writtenBy,
        CancellationToken cancellationToken)
    {
        var current = await s3.MetadataAsync(bucket, source, cancellationToken).ConfigureAwait(false);
        if (current is null
            || (expectedETag is not null && BareETag(current.ETag) != expectedETag)
            || (writtenBy is { } limit && current.LastModified is { } written && Utc(written) > limit))
        {
            return false; // already moved by an earlier delivery, or overwritten by a newer upload: not ours to move
        }
        try
        {
            await s3.CopyObjectAsync(new CopyObjectRequest
            {
                SourceBucket = bucket,
                SourceKey = source,
                DestinationBucket = bucket,
                DestinationKey = target,
                ETagToMatch = Quoted(BareETag(current.ETag)),
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (IsMissing(e) || e.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            return false;
        }

        // A copy's ETag need not be the original's (a multipart upload's is not an MD5; its copy's is): compare sizes.
        var copy = await s3.MetadataAsync(bucket, target, cancellationToken).ConfigureAwait(false);
        if (copy is null || copy.ContentLength != current.ContentLength)
        {
            throw new InvalidOperationException($"The copy of s3://{bucket}/{source} at {target} is missing or differs; the original is kept.");
        }
        try
        {
            // If-Match: a newer upload that overwrote the key since the copy keeps its file.
            var delete = new DeleteObjectRequest { BucketName = bucket, Key = source, IfMatch = Quoted(BareETag(current.ETag)) };
            await s3.DeleteObjectAsync(delete, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            return false;
        }
        return true;
    }
}
