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

        if (parts.Count(p => p.Table == TableKind.Products) > 1)
        {
            throw new BatchLayoutException(
                $"{folder} holds more than one products file ({string.Join(", ", parts.Where(p => p.Table == TableKind.Products).Select(p => p.Name))}): " +
                "a batch has one");
        }

        // What the pipeline would refuse before reading it is refused here, before anything is uploaded.
        if (store.Limits.CheckFiles([.. parts.Select(p => (p.Name, p.Length))]) is { } breach)
        {
            throw new BatchLayoutException($"{breach.File}: {breach.Message}", breach.Rule);
        }
        var keys = parts.Select(part => part.Table switch
        {
            TableKind.Products => prefix + part.Name,
            _ => BatchLayout.PartKey(batchName, TableNames.Of(part.Table), Path.GetFileName(part.Name)),
        }).ToList();

        // A few files at a time: a batch of many small parts waits on round trips, not on bandwidth.
        var etags = new string[parts.Count];
        var sentPerFile = new long[parts.Count];
        long sent = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, parts.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelUploads, CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var fileProgress = progress is null ? null : new ReportedAtOnce(done => Report(i, done));
                etags[i] = await store.UploadFileAsync(bucket, keys[i], Path.Combine(folder, parts[i].Name), fileProgress, ct).ConfigureAwait(false);
                Report(i, parts[i].Length ?? 0);
            }).ConfigureAwait(false);

        var products = parts.FirstOrDefault(p => p.Table == TableKind.Products) is { } productsPart ? prefix + productsPart.Name : null;
        // The manifest goes last: its arrival is what says the batch is complete.
        // In the parts' order, whichever finished first: the same files give the same manifest.
        var etagByFile = keys.Zip(etags).ToDictionary(k => k.First[prefix.Length..], k => k.Second);
        var manifest = new BatchManifest(batchName, FileNames(parts, TableKind.Orders), FileNames(parts, TableKind.OrderItems), products, etagByFile);
        var manifestKey = BatchLayout.ManifestKey(batchName);
        var put = await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket,
            Key = manifestKey,
            InputStream = new MemoryStream(manifest.ToJson(), writable: false),
            ContentType = "application/json",
        }, cancellationToken).ConfigureAwait(false);
        return new UploadedBatch(batchName, bucket, manifestKey, S3BatchStore.BareETag(put.ETag), sent, parts.Count);

        // Bytes sent so far of each file, summed over the batch: a file's progress only ever grows.
        void Report(int file, long done)
        {
            lock (sentPerFile)
            {
                if (done <= sentPerFile[file])
                {
                    return;
                }
                sent += done - sentPerFile[file];
                sentPerFile[file] = done;
                progress?.Report(sent);
            }
        }
    }

    private const int ParallelUploads = 4;

    /// <summary>Passes each report on at once, on the uploading thread (a <see cref="Progress{T}"/> would post it for later, out of order).</summary>
    private sealed class ReportedAtOnce(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }

    private static List<string> FileNames(IReadOnlyList<BatchPart> parts, TableKind table) =>
        parts.Where(p => p.Table == table).Select(p => Path.GetFileName(p.Name)).ToList();
}
