using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using static Pipeline.Storage.Batches.S3Objects;

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

/// <summary>Reads uploads from S3 for the engine and writes the pipeline's own files; <see cref="BatchArchive"/> moves them.</summary>
/// <param name="limits">What an upload may be (the manifest's size, the number and sizes of its files); the defaults when null.</param>
public sealed class S3BatchStore(IAmazonS3 s3, BatchLimits? limits = null)
{
    /// <summary>The largest file <see cref="PutFileAsync"/> uploads in one request; larger ones go in parts of this size.</summary>
    public const long PartSize = 8 * 1024 * 1024;

    /// <summary>HEAD requests at once while an upload's files outside its folder are found.</summary>
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
        // One listing of the batch's folder finds its files, taken while the manifest is read: the manifest's ETag was known
        // before this call, so its files were written before the listing either way.
        var listingTask = s3.ListObjectsAsync(bucket, BatchLayout.BatchPrefix(name), 2 * _limits.MaxFiles, cancellationToken);
        var manifestTask = GetManifestAsync(bucket, manifestKey, manifestETag, cancellationToken);
        // Both awaited, so that a listing that fails with the manifest is not left unobserved; the manifest's error comes first.
        await Task.WhenAll(manifestTask, listingTask).ConfigureAwait(false);
        var (manifest, manifestETagRead, manifestWritten) = await manifestTask.ConfigureAwait(false);

        (string Key, string Name, TableKind Table) Part(TableKind table, string file) =>
            (BatchLayout.PartKey(name, TableNames.Of(table), file), $"{TableNames.Of(table)}/{file}", table);
        var wanted = new List<(string Key, string Name, TableKind Table)>
        {
            ProductsPart(BatchLayout.ProductsKey(name, manifest.Products)),
        };
        wanted.AddRange(manifest.Orders.Select(f => Part(TableKind.Orders, f)));
        wanted.AddRange(manifest.OrderItems.Select(f => Part(TableKind.OrderItems, f)));
        Refuse(_limits.CheckFiles([.. wanted.Select(w => (w.Key, (long?)null))]));

        // A file outside the batch's folder (a shared product file) is found with a HEAD.
        var (listing, complete) = await listingTask.ConfigureAwait(false);
        var inFolder = listing.ToDictionary(o => o.Key, o => (ETag: BareETag(o.ETag), Size: o.Size ?? 0), StringComparer.Ordinal);
        var files = new BatchObject[wanted.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, wanted.Count),
            new ParallelOptions { MaxDegreeOfParallelism = MetadataRequestsAtOnce, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var w = wanted[i];
                (string ETag, long Size)? found = inFolder.TryGetValue(w.Key, out var listedFile) ? listedFile
                    : complete && BatchLayout.IsInBatchFolder(name, w.Key) ? null
                    : await MetadataAsync(bucket, w.Key, ct).ConfigureAwait(false) is { } metadata ? (BareETag(metadata.ETag), metadata.ContentLength)
                    : null;
                var (etag, size) = found ?? throw new BatchLayoutException($"{w.Key}, listed in {manifestKey}, does not exist in bucket {bucket}");
                if (manifest.ETags?.GetValueOrDefault(w.Name) is { } listed && listed != etag)
                {
                    throw new BatchLayoutException(
                        $"{w.Key} is not the file {manifestKey} was written for (its ETag is {etag}, the manifest lists {listed}): " +
                        "it changed after the manifest was written; upload the batch again");
                }
                files[i] = new BatchObject(w.Key, w.Name, w.Table, size, etag);
            }).ConfigureAwait(false);
        Refuse(_limits.CheckFiles([.. files.Select(f => (f.Key, (long?)f.Size))]));
        return new StoredBatch(name, bucket, manifest, new BatchContent(manifestKey, manifestETagRead, files) { ManifestLastModified = manifestWritten });
    }

    /// <summary>The products file's key and the name reports give it: <c>products.csv</c>, or <c>products.csv.gz</c> when it is stored gzipped.</summary>
    private static (string Key, string Name, TableKind Table) ProductsPart(string key) =>
        (key, TableNames.Products + PartFormat.ExtensionOf(PartFormat.CompressionOf(key) ?? PartCompression.None), TableKind.Products);

    /// <summary>
    /// The manifest of exactly the upload with <paramref name="manifestETag"/> (refused if it is too large or malformed), with
    /// its object's ETag and time of writing.
    /// </summary>
    private async Task<(BatchManifest Manifest, string ETag, DateTimeOffset? Written)> GetManifestAsync(
        string bucket, string manifestKey, string manifestETag, CancellationToken cancellationToken)
    {
        GetObjectResponse manifestObject;
        try
        {
            manifestObject = await s3.GetObjectAsync(
                new GetObjectRequest { BucketName = bucket, Key = manifestKey, EtagToMatch = Quoted(manifestETag) }, cancellationToken)
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

        using (manifestObject)
        {
            Refuse(_limits.CheckManifest(manifestKey, manifestObject.ContentLength));
            var manifest = BatchManifest.Parse(await ReadManifestAsync(manifestKey, manifestObject.ResponseStream, cancellationToken).ConfigureAwait(false));
            return (manifest, BareETag(manifestObject.ETag), manifestObject.LastModified is { } written ? Utc(written) : null);
        }
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
    /// The upload as the engine reads it: each part only if it is still the file the upload was taken up with (its ETag),
    /// or the read fails with <see cref="BatchChangedException"/>. The small parts are fetched whole, several at once, when
    /// the engine opens the first (<see cref="PartPrefetch"/>); the others stream straight from S3 when the engine opens them.
    /// </summary>
    public BatchInput ToEngineInput(string bucket, IEnumerable<BatchObject> files)
    {
        var parts = files.ToList();
        var prefetch = new PartPrefetch(parts, file => FetchObjectAsync(bucket, file));
        return new(parts.Select(file => new BatchPart(file.Name, file.Table, () => prefetch.Open(file) ?? OpenObject(bucket, file), file.Size)).ToList());
    }

    public async Task PutAsync(string bucket, string key, byte[] content, string contentType, CancellationToken cancellationToken) =>
        await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket,
            Key = key,
            InputStream = new MemoryStream(content, writable: false),
            ContentType = contentType,
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Uploads a local file and returns its bare ETag (one request more than <see cref="PutFileAsync"/>: a HEAD, as the
    /// transfer utility does not hand back the ETag of a multipart upload).
    /// </summary>
    public async Task<string> UploadFileAsync(string bucket, string key, string path, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        await PutFileAsync(bucket, key, path, progress, cancellationToken).ConfigureAwait(false);
        return BareETag((await s3.GetObjectMetadataAsync(bucket, key, cancellationToken).ConfigureAwait(false)).ETag);
    }

    /// <summary>
    /// Uploads a local file. Above 8 MiB it goes in 8 MiB parts (multipart upload): large files never need one huge
    /// request, which some S3 implementations refuse. <paramref name="progress"/> receives the bytes sent so far.
    /// </summary>
    public Task PutFileAsync(string bucket, string key, string path, IProgress<long>? progress, CancellationToken cancellationToken) =>
        PutFileAsync(bucket, key, path, progress, new Dictionary<string, string>(), cancellationToken);

    /// <summary><see cref="PutFileAsync(string, string, string, IProgress{long}?, CancellationToken)"/> with user metadata (<c>x-amz-meta-*</c>).</summary>
    public async Task PutFileAsync(string bucket, string key, string path, IProgress<long>? progress, IReadOnlyDictionary<string, string> metadata,
        CancellationToken cancellationToken)
    {
        using var transfer = new TransferUtility(s3, new TransferUtilityConfig { MinSizeBeforePartUpload = PartSize, ConcurrentServiceRequests = 4 });
        var request = new TransferUtilityUploadRequest { BucketName = bucket, Key = key, FilePath = path, PartSize = PartSize };
        foreach (var (name, value) in metadata)
        {
            request.Metadata.Add(name, value);
        }
        if (progress is not null)
        {
            request.UploadProgressEvent += (_, e) => progress.Report(e.TransferredBytes);
        }
        await transfer.UploadAsync(request, cancellationToken).ConfigureAwait(false);
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
    public static string BareETag(string etag) => S3Objects.BareETag(etag);

    private Task<GetObjectMetadataResponse?> MetadataAsync(string bucket, string key, CancellationToken cancellationToken) =>
        s3.MetadataAsync(bucket, key, cancellationToken);

    /// <summary>Every key under <paramref name="prefix"/>.</summary>
    public Task<IReadOnlyList<string>> ListAsync(string bucket, string prefix, CancellationToken cancellationToken) =>
        s3.ListKeysAsync(bucket, prefix, cancellationToken);

    // The engine opens parts from its worker threads, which may block: no synchronization context, no thread-pool starvation.
    private Stream OpenObject(string bucket, BatchObject file) => GetObjectAsync(bucket, file).GetAwaiter().GetResult().ResponseStream;

    private async Task<byte[]> FetchObjectAsync(string bucket, BatchObject file)
    {
        using var response = await GetObjectAsync(bucket, file).ConfigureAwait(false);
        using var content = new MemoryStream(checked((int)file.Size));
        await response.ResponseStream.CopyToAsync(content).ConfigureAwait(false);
        return content.Length == content.Capacity ? content.GetBuffer() : content.ToArray();
    }

    /// <summary>A part of the upload, only while it is the file the upload was taken up with.</summary>
    private async Task<GetObjectResponse> GetObjectAsync(string bucket, BatchObject file)
    {
        try
        {
            return await s3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = file.Key, EtagToMatch = Quoted(file.ETag) })
                .ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed || IsMissing(e))
        {
            throw new BatchChangedException($"{file.Key} changed or disappeared while the batch was being read (a newer upload replaces it)");
        }
    }
}
