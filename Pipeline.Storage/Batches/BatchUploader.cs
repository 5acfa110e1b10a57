using Amazon.S3;
using Amazon.S3.Model;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;

namespace Pipeline.Storage.Batches;

/// <summary>A batch uploaded by <see cref="BatchUploader"/>: where its manifest is, and the manifest's ETag.</summary>
public sealed record UploadedBatch(string Name, string Bucket, string ManifestKey, string ManifestETag, long Bytes, int Files);

/// <summary>
/// Uploads a local batch folder (as <c>pipeline process</c> reads it) into the bucket layout: its parts under
/// <c>data/&lt;batch&gt;/</c> (multipart above 8 MiB), then, last, a manifest listing them with the ETag each got, so
/// that the same files give the same manifest and other content a new one.
/// </summary>
public sealed class BatchUploader(IAmazonS3 s3, S3BatchStore store)
{
    /// <param name="progress">Bytes uploaded so far, of the batch's total.</param>
    public async Task<UploadedBatch> UploadAsync(string bucket, string folder, string batchName, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var prefix = BatchLayout.BatchPrefix(batchName);
        var parts = LocalBatchFolder.Open(folder).Parts;
        if (!parts.Any(p => p.Table == TableKind.Orders) || !parts.Any(p => p.Table == TableKind.OrderItems))
        {
            throw new BatchLayoutException(
                $"{folder} holds no orders or no order items (expected orders/*.csv and order_items/*.csv, or orders.csv and order_items.csv)");
        }

        // What the pipeline would refuse before reading it is refused here, before anything is uploaded.
        if (store.Limits.CheckFiles([.. parts.Select(p => (p.Name, p.Length))]) is { } breach)
        {
            throw new BatchLayoutException($"{breach.File}: {breach.Message}", breach.Rule);
        }
        var keys = parts.Select(part => part.Table switch
        {
            TableKind.Products => prefix + TableNames.ProductsFile,
            _ => BatchLayout.PartKey(batchName, TableNames.Of(part.Table), Path.GetFileName(part.Name)),
        }).ToList();

        var etags = new Dictionary<string, string>();
        long sent = 0;
        foreach (var (part, key) in parts.Zip(keys))
        {
            var before = sent;
            etags[key[prefix.Length..]] = await store.UploadFileAsync(bucket, key, Path.Combine(folder, part.Name),
                progress is null ? null : new Progress<long>(done => progress.Report(before + done)), cancellationToken).ConfigureAwait(false);
            sent += part.Length ?? 0;
            progress?.Report(sent);
        }

        var products = parts.Any(p => p.Table == TableKind.Products) ? prefix + TableNames.ProductsFile : null;
        // The manifest goes last: its arrival is what says the batch is complete.
        var manifest = new BatchManifest(batchName, FileNames(parts, TableKind.Orders), FileNames(parts, TableKind.OrderItems), products, etags);
        var manifestKey = BatchLayout.ManifestKey(batchName);
        var put = await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket,
            Key = manifestKey,
            InputStream = new MemoryStream(manifest.ToJson(), writable: false),
            ContentType = "application/json",
        }, cancellationToken).ConfigureAwait(false);
        return new UploadedBatch(batchName, bucket, manifestKey, S3BatchStore.BareETag(put.ETag), sent, parts.Count);
    }

    private static List<string> FileNames(IReadOnlyList<BatchPart> parts, TableKind table) =>
        parts.Where(p => p.Table == table).Select(p => Path.GetFileName(p.Name)).ToList();
}
