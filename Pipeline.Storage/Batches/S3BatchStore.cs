using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;

namespace Pipeline.Storage.Batches;

/// <summary>One data file of a stored batch: its key, the name reports show, its table and size.</summary>
public sealed record BatchObject(string Key, string Name, TableKind Table, long Size);

/// <summary>A batch as found in S3: its manifest (and the manifest's ETag, which with the key identifies the batch) and files.</summary>
public sealed record StoredBatch(string Name, string Bucket, string ManifestKey, string ManifestETag, BatchManifest Manifest, IReadOnlyList<BatchObject> Files);

/// <summary>Reads batches from S3 for the engine, writes their reports and archives their files.</summary>
public sealed class S3BatchStore(IAmazonS3 s3)
{
    private const long PartSize = 8 * 1024 * 1024;

    /// <summary>
    /// Reads and checks the manifest and finds every file it lists. A malformed manifest, a key outside the batch or
    /// a missing file is a <see cref="BatchLayoutException"/> whose message names the problem.
    /// </summary>
    public async Task<StoredBatch> OpenAsync(string bucket, string manifestKey, CancellationToken cancellationToken)
    {
        var name = BatchLayout.BatchNameOf(manifestKey);
        GetObjectResponse manifestObject;
        try
        {
            manifestObject = await s3.GetObjectAsync(bucket, manifestKey, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "NoSuchKey" or "NotFound")
        {
            throw new BatchLayoutException($"the manifest {manifestKey} does not exist in bucket {bucket}");
        }

        BatchManifest manifest;
        using (manifestObject)
        using (var buffer = new MemoryStream())
        {
            await manifestObject.ResponseStream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            manifest = BatchManifest.Parse(buffer.ToArray());
        }

        var wanted = new List<(string Key, string Name, TableKind Table)>
        {
            (BatchLayout.ProductsKey(name, manifest.Products), "products.csv", TableKind.Products),
        };
        wanted.AddRange(manifest.Orders.Select(f => (BatchLayout.PartKey(name, "orders", f), $"orders/{f}", TableKind.Orders)));
        wanted.AddRange(manifest.OrderItems.Select(f => (BatchLayout.PartKey(name, "order_items", f), $"order_items/{f}", TableKind.OrderItems)));

        var files = await Task.WhenAll(wanted.Select(async w =>
            new BatchObject(w.Key, w.Name, w.Table, await SizeOfAsync(bucket, w.Key, manifestKey, cancellationToken).ConfigureAwait(false)))).ConfigureAwait(false);
        return new StoredBatch(name, bucket, manifestKey, BareETag(manifestObject.ETag), manifest, files);
    }

    /// <summary>The batch as the engine reads it: each part streams straight from S3 when the engine opens it.</summary>
    public BatchInput ToEngineInput(StoredBatch batch) => new(batch.Files
        .Select(file => new BatchPart(file.Name, file.Table, () => OpenObject(batch.Bucket, file.Key), file.Size))
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
    /// Moves the batch's own files and manifest under <paramref name="archivePrefix"/> (<c>processed/</c> or <c>errors/</c>).
    /// Each original is deleted only after its copy is confirmed; the shared product master is never moved.
    /// </summary>
    public async Task<IReadOnlyList<string>> ArchiveAsync(string bucket, string batchName, IEnumerable<string> keys, string archivePrefix, CancellationToken cancellationToken)
    {
        var moves = keys.Where(k => k != BatchLayout.ProductMasterKey).Distinct()
            .Select(key => (Source: key, Target: BatchLayout.ArchiveKey(batchName, archivePrefix, key))).ToList();
        var moved = new bool[moves.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, moves.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (i, ct) => moved[i] = await MoveAsync(bucket, moves[i].Source, moves[i].Target, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return moves.Where((_, i) => moved[i]).Select(m => m.Target).ToList();
    }

    /// <summary>Copy, confirm the copy, then delete the original; false when the source is already gone.</summary>
    private async Task<bool> MoveAsync(string bucket, string source, string target, CancellationToken cancellationToken)
    {
        try
        {
            await s3.CopyObjectAsync(new CopyObjectRequest
            {
                SourceBucket = bucket,
                SourceKey = source,
                DestinationBucket = bucket,
                DestinationKey = target,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "NoSuchKey" or "NotFound")
        {
            return false; // already moved by an earlier delivery, or never uploaded
        }

        await s3.GetObjectMetadataAsync(bucket, target, cancellationToken).ConfigureAwait(false); // the copy is there
        await s3.DeleteObjectAsync(bucket, source, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Uploads a local file. Above 8 MiB it goes in 8 MiB parts (multipart upload): large files never need one huge
    /// request, which some S3 implementations refuse. <paramref name="progress"/> receives the bytes sent so far.
    /// </summary>
    public async Task UploadFileAsync(string bucket, string key, string path, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        using var transfer = new TransferUtility(s3, new TransferUtilityConfig { MinSizeBeforePartUpload = PartSize, ConcurrentServiceRequests = 4 });
        var request = new TransferUtilityUploadRequest { BucketName = bucket, Key = key, FilePath = path, PartSize = PartSize };
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

    /// <summary>The manifest's ETag, or null when there is no manifest at that key.</summary>
    public async Task<string?> ManifestETagAsync(string bucket, string manifestKey, CancellationToken cancellationToken)
    {
        try
        {
            return BareETag((await s3.GetObjectMetadataAsync(bucket, manifestKey, cancellationToken).ConfigureAwait(false)).ETag);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "NoSuchKey" or "NotFound" || e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Every object still under the batch's folder (what a rejection moves when the manifest is unusable).</summary>
    public async Task<IReadOnlyList<string>> ListBatchKeysAsync(string bucket, string batchName, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = BatchLayout.BatchPrefix(batchName) };
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

    /// <summary>S3 quotes ETags in headers but not in event notifications; batch identities use the bare value.</summary>
    public static string BareETag(string etag) => etag.Trim('"');

    private async Task<long> SizeOfAsync(string bucket, string key, string manifestKey, CancellationToken cancellationToken)
    {
        try
        {
            return (await s3.GetObjectMetadataAsync(bucket, key, cancellationToken).ConfigureAwait(false)).ContentLength;
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "NoSuchKey" or "NotFound" || e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            throw new BatchLayoutException($"{key}, listed in {manifestKey}, does not exist in bucket {bucket}");
        }
    }

    // The engine opens parts from its worker threads, which may block: no synchronization context, no thread-pool starvation.
    private Stream OpenObject(string bucket, string key) =>
        s3.GetObjectAsync(bucket, key).GetAwaiter().GetResult().ResponseStream;
}
