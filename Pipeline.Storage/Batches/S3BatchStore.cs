using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;

namespace Pipeline.Storage.Batches;

/// <summary>An upload as found in S3: its manifest, and its content (the manifest's and every listed file's key and ETag).</summary>
public sealed record StoredBatch(string Name, string Bucket, BatchManifest Manifest, BatchContent Content)
{
    public string ManifestKey => Content.ManifestKey;

    public IReadOnlyList<BatchObject> Files => Content.Files;
}

/// <summary>
/// An upload's files changed while the pipeline was reading them (a newer upload of the batch is being written over
/// them): this upload is superseded; the newer one has its own submission.
/// </summary>
public sealed class BatchChangedException(string message) : Exception(message);

/// <summary>A manifest as S3 has it now: its ETag and when it was written.</summary>
public sealed record ManifestVersion(string ETag, DateTimeOffset LastModified);

/// <summary>Reads uploads from S3 for the engine, writes their reports and archives exactly their files.</summary>
/// <param name="limits">What an upload may be (the manifest's size, the number and sizes of its files); the defaults when null.</param>
public sealed class S3BatchStore(IAmazonS3 s3, BatchLimits? limits = null)
{
    private const long PartSize = 8 * 1024 * 1024;

    /// <summary>HEAD requests at once while an upload's files are found (a manifest may list up to <see cref="BatchLimits.MaxFiles"/>).</summary>
    private const int MetadataRequestsAtOnce = 16;

    private readonly BatchLimits _limits = limits ?? new BatchLimits();

    /// <summary>What an upload may be, as this store checks it.</summary>
    public BatchLimits Limits => _limits;

    /// <summary>
    /// Reads and checks the manifest (the one with <paramref name="manifestETag"/>) and finds every file it lists. A
    /// malformed manifest, a key outside the batch, a missing file, a file the manifest's ETags do not match, or a
    /// manifest or files beyond the limits (checked before anything beyond them is read) is a
    /// <see cref="BatchLayoutException"/> naming the problem; a manifest replaced meanwhile, a <see cref="BatchChangedException"/>.
    /// </summary>
    public async Task<StoredBatch> OpenAsync(string bucket, string manifestKey, string manifestETag, CancellationToken cancellationToken)
    {
        var name = BatchLayout.BatchNameOf(manifestKey);
        GetObjectResponse manifestObject;
        try
        {
            manifestObject = await s3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = manifestKey, EtagToMatch = Quoted(manifestETag) }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (IsMissing(e))
        {
            throw new BatchLayoutException($"the manifest {manifestKey} does not exist in bucket {bucket}");
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            throw new BatchChangedException($"the manifest {manifestKey} was replaced by a newer upload");
        }

        BatchManifest manifest;
        using (manifestObject)
        {
            Refuse(_limits.CheckManifest(manifestKey, manifestObject.ContentLength));
            manifest = BatchManifest.Parse(await ReadManifestAsync(manifestKey, manifestObject.ResponseStream, cancellationToken).ConfigureAwait(false));
        }

        (string Key, string Name, TableKind Table) Part(TableKind table, string file) =>
            (BatchLayout.PartKey(name, TableNames.Of(table), file), $"{TableNames.Of(table)}/{file}", table);
        var wanted = new List<(string Key, string Name, TableKind Table)>
        {
            (BatchLayout.ProductsKey(name, manifest.Products), TableNames.ProductsFile, TableKind.Products),
        };
        wanted.AddRange(manifest.Orders.Select(f => Part(TableKind.Orders, f)));
        wanted.AddRange(manifest.OrderItems.Select(f => Part(TableKind.OrderItems, f)));
        Refuse(_limits.CheckFiles([.. wanted.Select(w => (w.Key, (long?)null))]));

        var files = new BatchObject[wanted.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, wanted.Count), new ParallelOptions { MaxDegreeOfParallelism = MetadataRequestsAtOnce, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var w = wanted[i];
                var metadata = await MetadataAsync(bucket, w.Key, ct).ConfigureAwait(false)
                    ?? throw new BatchLayoutException($"{w.Key}, listed in {manifestKey}, does not exist in bucket {bucket}");
                var etag = BareETag(metadata.ETag);
                if (manifest.ETags?.GetValueOrDefault(w.Name) is { } listed && listed != etag)
                {
                    throw new BatchLayoutException(
                        $"{w.Key} is not the file {manifestKey} was written for (its ETag is {etag}, the manifest lists {listed}): it changed after the manifest was written; upload the batch again");
                }
                files[i] = new BatchObject(w.Key, w.Name, w.Table, metadata.ContentLength, etag);
            }).ConfigureAwait(false);
        Refuse(_limits.CheckFiles([.. files.Select(f => (f.Key, (long?)f.Size))]));
        return new StoredBatch(name, bucket, manifest, new BatchContent(manifestKey, BareETag(manifestObject.ETag), files)
        {
            ManifestLastModified = manifestObject.LastModified is { } written ? Utc(written) : null,
        });
    }

    /// <summary>The manifest's bytes, read only up to the limit, whatever size S3 announced.</summary>
    private async Task<byte[]> ReadManifestAsync(string manifestKey, Stream content, CancellationToken cancellationToken)
    {
        var buffer = new byte[_limits.MaxManifestBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await content.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
        {
            length += read;
        }
        Refuse(_limits.CheckManifest(manifestKey, length));
        return buffer[..length];
    }

    private static void Refuse(LimitBreach? breach)
    {
        if (breach is not null)
        {
            throw new BatchLayoutException($"{breach.File}: {breach.Message}", breach.Rule);
        }
    }

    /// <summary>
    /// The upload as the engine reads it: each part streams straight from S3 when the engine opens it, and only if it
    /// is still the file the upload was taken up with (its ETag), or the read fails with <see cref="BatchChangedException"/>.
    /// </summary>
    public BatchInput ToEngineInput(string bucket, IEnumerable<BatchObject> files) => new(files
        .Select(file => new BatchPart(file.Name, file.Table, () => OpenObject(bucket, file), file.Size))
        .ToList());

    public async Task PutAsync(string bucket, string key, byte[] content, string contentType, CancellationToken cancellationToken) =>
        await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket,
            Key = key,
            InputStream = new MemoryStream(content, writable: false),
            ContentType = contentType,
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Moves one upload — the files its manifest lists inside the batch's folder, never a shared product master or
    /// another batch's file, then the manifest — to its version's folder under <paramref name="archivePrefix"/>. A file
    /// is moved only while it is still the upload's (same ETag, written no later than the manifest): a newer upload's
    /// files stay. Each original is deleted only after its copy is confirmed, and only if it is still that object
    /// (S3's conditional delete). Returns the keys written.
    /// </summary>
    public async Task<IReadOnlyList<string>> ArchiveAsync(string bucket, string batchName, int version, BatchContent content, string archivePrefix, CancellationToken cancellationToken)
    {
        var files = content.Files.Select(f => (f.Key, f.ETag))
            .Where(o => BatchLayout.IsInBatchFolder(batchName, o.Key)).Distinct()
            .Select(o => (o.Key, o.ETag, Target: BatchLayout.ArchiveKey(batchName, version, archivePrefix, o.Key))).ToList();
        var moved = new bool[files.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), RequestConcurrency.Options(cancellationToken),
            async (i, ct) => moved[i] = await MoveAsync(bucket, files[i].Key, files[i].Target, files[i].ETag, content.ManifestLastModified, ct).ConfigureAwait(false))
            .ConfigureAwait(false);
        var targets = files.Where((_, i) => moved[i]).Select(f => f.Target).ToList();

        // The manifest last: while it is in data/, every file it lists is there too (or was never uploaded).
        if (content.ManifestETag.Length > 0)
        {
            var manifestTarget = BatchLayout.ArchiveKey(batchName, version, archivePrefix, content.ManifestKey);
            if (await MoveAsync(bucket, content.ManifestKey, manifestTarget, content.ManifestETag, content.ManifestLastModified, cancellationToken).ConfigureAwait(false))
            {
                targets.Add(manifestTarget);
            }
        }
        return targets;
    }

    /// <summary>Moves everything under one folder to another (a retracted version's archive), copy first, delete after.</summary>
    public async Task<int> MoveFolderAsync(string bucket, string fromFolder, string toFolder, CancellationToken cancellationToken)
    {
        var keys = await ListAsync(bucket, fromFolder, cancellationToken).ConfigureAwait(false);
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
    private async Task<bool> MoveAsync(string bucket, string source, string target, string? expectedETag, DateTimeOffset? writtenBy, CancellationToken cancellationToken)
    {
        var current = await MetadataAsync(bucket, source, cancellationToken).ConfigureAwait(false);
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
        var copy = await MetadataAsync(bucket, target, cancellationToken).ConfigureAwait(false);
        if (copy is null || copy.ContentLength != current.ContentLength)
        {
            throw new InvalidOperationException($"The copy of s3://{bucket}/{source} at {target} is missing or differs; the original is kept.");
        }
        try
        {
            // If-Match: a newer upload that overwrote the key since the copy keeps its file.
            await s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = source, IfMatch = Quoted(BareETag(current.ETag)) }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            return false;
        }
        return true;
    }

    /// <summary>
    /// Uploads a local file and returns its bare ETag. Above 8 MiB it goes in 8 MiB parts (multipart upload): large
    /// files never need one huge request, which some S3 implementations refuse. <paramref name="progress"/> receives the bytes sent so far.
    /// </summary>
    public async Task<string> UploadFileAsync(string bucket, string key, string path, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        using var transfer = new TransferUtility(s3, new TransferUtilityConfig { MinSizeBeforePartUpload = PartSize, ConcurrentServiceRequests = 4 });
        var request = new TransferUtilityUploadRequest { BucketName = bucket, Key = key, FilePath = path, PartSize = PartSize };
        if (progress is not null)
        {
            request.UploadProgressEvent += (_, e) => progress.Report(e.TransferredBytes);
        }
        await transfer.UploadAsync(request, cancellationToken).ConfigureAwait(false);
        // The transfer utility does not hand back the ETag of a multipart upload: ask S3.
        return BareETag((await s3.GetObjectMetadataAsync(bucket, key, cancellationToken).ConfigureAwait(false)).ETag);
    }

    /// <summary>Reads an object to the end through <paramref name="read"/> (a parser that takes a stream).</summary>
    public async Task<T> ReadAsync<T>(string bucket, string key, Func<Stream, T> read, CancellationToken cancellationToken)
    {
        using var response = await s3.GetObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false);
        return read(response.ResponseStream);
    }

    /// <summary>The manifest as S3 has it now, or null when there is no manifest at that key.</summary>
    public async Task<ManifestVersion?> ManifestAsync(string bucket, string manifestKey, CancellationToken cancellationToken) =>
        await MetadataAsync(bucket, manifestKey, cancellationToken).ConfigureAwait(false) is { } metadata
            ? new ManifestVersion(BareETag(metadata.ETag), metadata.LastModified is { } written ? Utc(written) : default)
            : null;

    /// <summary>S3 quotes ETags in headers but not in event notifications; identities use the bare value.</summary>
    public static string BareETag(string etag) => etag.Trim('"');

    private static DateTimeOffset Utc(DateTime time) =>
        new(time.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(time, DateTimeKind.Utc) : time.ToUniversalTime());

    private static string Quoted(string bareETag) => $"\"{bareETag}\"";

    private static bool IsMissing(AmazonS3Exception e) => e.ErrorCode is "NoSuchKey" or "NotFound" || e.StatusCode == HttpStatusCode.NotFound;

    private async Task<GetObjectMetadataResponse?> MetadataAsync(string bucket, string key, CancellationToken cancellationToken)
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
    public async Task<IReadOnlyList<string>> ListAsync(string bucket, string prefix, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
        ListObjectsV2Response page;
        do
        {
            page = await s3.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        return keys;
    }

    // The engine opens parts from its worker threads, which may block: no synchronization context, no thread-pool starvation.
    private Stream OpenObject(string bucket, BatchObject file)
    {
        try
        {
            return s3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = file.Key, EtagToMatch = Quoted(file.ETag) })
                .GetAwaiter().GetResult().ResponseStream;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed || IsMissing(e))
        {
            throw new BatchChangedException($"{file.Key} changed or disappeared while the batch was being read (a newer upload replaces it)");
        }
    }
}
