using Amazon.S3;
using Amazon.S3.Model;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;

namespace Pipeline.Storage.Batches;

/// <summary>One data file of a stored batch: its key, the name reports show, its table and size.</summary>
public sealed record BatchObject(string Key, string Name, TableKind Table, long Size);

/// <summary>A batch as found in S3: its manifest (and the manifest's ETag, which with the key identifies the batch) and files.</summary>
public sealed record StoredBatch(string Name, string Bucket, string ManifestKey, string ManifestETag, BatchManifest Manifest, IReadOnlyList<BatchObject> Files)
{
    /// <summary>The batch's identity: the same manifest key with other content is another batch.</summary>
    public string Identity => $"{ManifestKey}#{ManifestETag}";
}

/// <summary>Reads batches from S3 for the engine, writes their reports and archives their files.</summary>
public sealed class S3BatchStore(IAmazonS3 s3)
{
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
        return new StoredBatch(name, bucket, manifestKey, manifestObject.ETag, manifest, files);
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
        var moved = new List<string>();
        foreach (var key in keys.Where(k => k != BatchLayout.ProductMasterKey).Distinct())
        {
            var target = BatchLayout.ArchiveKey(batchName, archivePrefix, key);
            try
            {
                await s3.CopyObjectAsync(new CopyObjectRequest
                {
                    SourceBucket = bucket,
                    SourceKey = key,
                    DestinationBucket = bucket,
                    DestinationKey = target,
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception e) when (e.ErrorCode is "NoSuchKey" or "NotFound")
            {
                continue; // already moved by an earlier delivery, or never uploaded
            }

            await s3.GetObjectMetadataAsync(bucket, target, cancellationToken).ConfigureAwait(false); // the copy is there
            await s3.DeleteObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false);
            moved.Add(target);
        }
        return moved;
    }

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
