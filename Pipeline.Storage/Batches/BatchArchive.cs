using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using static Pipeline.Storage.Batches.S3Objects;

namespace Pipeline.Storage.Batches;

/// <summary>
/// Moves a version's files between the bucket's folders: out of <c>data/</c> into the version's archive
/// (<c>errors/</c>, <c>processed/</c>) and from one archive to another (<c>retracted/</c>). Nothing is deleted before its
/// copy exists, and nothing is moved that is not the version's own (docs/pipeline.md, "Batches in S3"). A move lists the
/// source folder once, copies each file, all at once (S3 has no batch copy), lists the target folder once to confirm the copies, and
/// deletes the originals in one request per thousand.
/// </summary>
public sealed class BatchArchive(IAmazonS3 s3)
{
    /// <summary>DeleteObjects' limit of keys a request.</summary>
    private const int KeysPerDelete = 1000;

    /// <summary>
    /// Moves one upload — the files its manifest lists inside the batch's folder, never a shared product master or
    /// another batch's file, then the manifest — to its version's folder under <paramref name="archivePrefix"/>. A file
    /// is moved only while it is still the upload's (same ETag, written no later than the manifest): a newer upload's
    /// files stay. Each original is deleted only after its copy is confirmed, and only if it is still that object
    /// (S3's conditional delete); the manifest's last. Returns the keys written.
    /// </summary>
    public async Task<IReadOnlyList<string>> ArchiveAsync(string bucket, string batchName, int version, BatchContent content, string archivePrefix,
        CancellationToken cancellationToken)
    {
        var (objects, _) = await s3.ListObjectsAsync(bucket, BatchLayout.BatchPrefix(batchName), int.MaxValue, cancellationToken).ConfigureAwait(false);
        var listed = objects.ToDictionary(o => o.Key, StringComparer.Ordinal);
        Move? Ours(string key, string etag) =>
            listed.TryGetValue(key, out var current) && BareETag(current.ETag) == etag && !WrittenAfter(current.LastModified, content.ManifestLastModified)
                ? new Move(current, BatchLayout.ArchiveKey(batchName, version, archivePrefix, key))
                : null; // already moved by an earlier delivery, or overwritten by a newer upload: not ours to move
        var files = content.Files.Select(f => (f.Key, f.ETag)).Where(o => BatchLayout.IsInBatchFolder(batchName, o.Key)).Distinct()
            .Select(o => Ours(o.Key, o.ETag)).OfType<Move>().ToList();
        var manifest = content.ManifestETag.Length > 0 ? Ours(content.ManifestKey, content.ManifestETag) : null;

        var copied = await CopyAsync(bucket, manifest is null ? files : [.. files, manifest],
            BatchLayout.VersionFolder(archivePrefix, batchName, version), cancellationToken).ConfigureAwait(false);
        var moved = await DeleteAsync(bucket, copied.Where(m => m != manifest).ToList(), cancellationToken).ConfigureAwait(false);
        // The manifest last: while it is in data/, each file it lists is still there or already in the archive.
        if (manifest is not null && copied.Contains(manifest))
        {
            moved.AddRange(await DeleteAsync(bucket, [manifest], cancellationToken).ConfigureAwait(false));
        }
        return moved.Select(m => m.Target).ToList();
    }

    /// <summary>Moves everything under one folder to another (a retracted version's archive), copy first, delete after.</summary>
    public async Task<int> MoveFolderAsync(string bucket, string fromFolder, string toFolder, CancellationToken cancellationToken)
    {
        var (objects, _) = await s3.ListObjectsAsync(bucket, fromFolder, int.MaxValue, cancellationToken).ConfigureAwait(false);
        var copied = await CopyAsync(bucket, objects.Select(o => new Move(o, toFolder + o.Key[fromFolder.Length..])).ToList(), toFolder, cancellationToken)
            .ConfigureAwait(false);
        return (await DeleteAsync(bucket, copied, cancellationToken).ConfigureAwait(false)).Count;
    }

    /// <summary>
    /// Copies each source as it was listed (same ETag) to its target, then lists <paramref name="targetFolder"/> once to
    /// confirm each copy; the moves whose copy exists, in their order. A source gone or changed since it was listed is
    /// left out; a copy that is missing or differs fails the whole move, every original kept.
    /// </summary>
    private async Task<List<Move>> CopyAsync(string bucket, IReadOnlyList<Move> moves, string targetFolder, CancellationToken cancellationToken)
    {
        var copied = new bool[moves.Count];
        var atOnce = RequestConcurrency.Options(cancellationToken, RequestConcurrency.CopiesAtOnce);
        await Parallel.ForEachAsync(Enumerable.Range(0, moves.Count), atOnce, async (i, ct) =>
        {
            try
            {
                await s3.CopyObjectAsync(new CopyObjectRequest
                {
                    SourceBucket = bucket,
                    SourceKey = moves[i].Source.Key,
                    DestinationBucket = bucket,
                    DestinationKey = moves[i].Target,
                    ETagToMatch = Quoted(BareETag(moves[i].Source.ETag)),
                }, ct).ConfigureAwait(false);
                copied[i] = true;
            }
            catch (AmazonS3Exception e) when (IsMissing(e) || e.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                // Moved by another delivery meanwhile, or overwritten by a newer upload.
            }
        }).ConfigureAwait(false);
        var done = moves.Where((_, i) => copied[i]).ToList();
        if (done.Count == 0)
        {
            return done;
        }

        // A copy's ETag need not be the original's (a multipart upload's is not an MD5; its copy's is): compare sizes.
        var (targets, _) = await s3.ListObjectsAsync(bucket, targetFolder, int.MaxValue, cancellationToken).ConfigureAwait(false);
        var sizes = targets.ToDictionary(o => o.Key, o => o.Size, StringComparer.Ordinal);
        if (done.FirstOrDefault(m => !sizes.TryGetValue(m.Target, out var size) || size != m.Source.Size) is { } bad)
        {
            throw new InvalidOperationException($"The copy of s3://{bucket}/{bad.Source.Key} at {bad.Target} is missing or differs; the original is kept.");
        }
        return done;
    }

    /// <summary>
    /// Deletes the originals of copied moves, each only if it is still the object listed (its ETag: a newer upload that
    /// overwrote the key since keeps its file); the moves whose original this call deleted (or found gone).
    /// </summary>
    private async Task<List<Move>> DeleteAsync(string bucket, IReadOnlyList<Move> moves, CancellationToken cancellationToken)
    {
        var deleted = new List<Move>();
        foreach (var chunk in moves.Chunk(KeysPerDelete))
        {
            var kept = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                await s3.DeleteObjectsAsync(new DeleteObjectsRequest
                {
                    BucketName = bucket,
                    Objects = chunk.Select(m => new KeyVersion { Key = m.Source.Key, ETag = Quoted(BareETag(m.Source.ETag)) }).ToList(),
                    Quiet = true,
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (DeleteObjectsException e)
            {
                var errors = e.Response.DeleteErrors ?? [];
                if (errors.FirstOrDefault(error => error.Code != "PreconditionFailed") is { } failed)
                {
                    throw new InvalidOperationException(
                        $"s3://{bucket}/{failed.Key} could not be deleted ({failed.Code}: {failed.Message}); it is tried again.", e);
                }
                kept.UnionWith(errors.Select(error => error.Key));
            }
            deleted.AddRange(chunk.Where(m => !kept.Contains(m.Source.Key)));
        }
        return deleted;
    }

    /// <summary>One object to move: as it was listed at its source, and where it goes.</summary>
    private sealed record Move(S3Object Source, string Target);
}
