using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Validation;
using Pipeline.Storage.Batches;

namespace Pipeline.Storage.Tests;

/// <summary>Batches in S3 (fauxqs over HTTP): manifests read and checked, files streamed to the engine, archives moved safely.</summary>
public class S3BatchStoreTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>
{
    private const string Products =
        "id,sku,cost,category,name,brand,retail_price,department\n" +
        "1,A-1,10.5,Jeans,Blue,Acme,30,Men\n" +
        "2,B-2,3.2,Accessories,Belt,Acme,12.5,Men\n";
    private const string Orders =
        "order_id,user_id,status,created_at,returned_at,shipped_at,delivered_at,num_of_item\n" +
        "1,7,delivered,2025-03-08T10:00:00,,2025-03-09T10:00:00,2025-03-10T10:00:00,2\n" +
        "2,8,returned,2025-03-09T11:00:00,2025-03-12T11:00:00,2025-03-10T11:00:00,2025-03-11T11:00:00,1\n";
    private const string Items =
        "id,order_id,user_id,product_id,status,created_at,shipped_at,delivered_at,returned_at,sale_price\n" +
        "1,1,7,1,delivered,2025-03-08T10:05:00,,,,29.99\n" +
        "2,1,7,2,delivered,2025-03-08T10:06:00,,,,12.50\n" +
        "3,2,8,1,returned,2025-03-09T11:02:00,,,2025-03-12T11:00:00,30.00\n";

    private string Bucket => aws.Topology.Bucket.Name;

    [Fact]
    public async Task A_stored_batch_streams_through_the_engine_like_the_same_files_on_disk()
    {
        using var s3 = aws.CreateS3();
        var manifestKey = await UploadAsync(
            s3, "20250308",
            """{"date":"20250308","files":{"orders":["orders_part1.csv"],"order_items":["order_items_part1.csv","order_items_part2.csv"]}}""",
            ("orders/orders_part1.csv", Orders),
            ("order_items/order_items_part1.csv", string.Join('\n', Items.Split('\n')[..3]) + "\n"),
            ("order_items/order_items_part2.csv", Items.Split('\n')[0] + "\n" + Items.Split('\n')[3] + "\n"));
        var store = new S3BatchStore(s3);

        var batch = await OpenAsync(store, manifestKey);
        var result = new BatchProcessor().Process(store.ToEngineInput(Bucket, batch.Files));

        Assert.Equal("20250308", batch.Name);
        Assert.False(string.IsNullOrEmpty(batch.Content.ManifestETag));
        Assert.All(batch.Files, f => Assert.False(string.IsNullOrEmpty(f.ETag)));
        Assert.Equal(
            ["products.csv", "orders/orders_part1.csv", "order_items/order_items_part1.csv", "order_items/order_items_part2.csv"],
            batch.Files.Select(f => f.Name));
        Assert.Equal(BatchLayout.ProductMasterKey, batch.Files[0].Key);
        Assert.True(result.Accepted);
        var onDisk = new BatchProcessor().Process(new BatchInput(
        [
            BatchPart.FromBytes("products.csv", Engine.Csv.TableKind.Products, Encoding.UTF8.GetBytes(Products)),
            BatchPart.FromBytes("orders.csv", Engine.Csv.TableKind.Orders, Encoding.UTF8.GetBytes(Orders)),
            BatchPart.FromBytes("order_items.csv", Engine.Csv.TableKind.OrderItems, Encoding.UTF8.GetBytes(Items)),
        ]));
        Assert.Equal(KpiCalculator.Compute(onDisk.Kpis!), KpiCalculator.Compute(result.Kpis!), new KpiTablesComparer());
    }

    [Fact]
    public async Task An_uploaded_folder_lists_every_part_with_its_ETag_in_the_parts_order_and_the_same_files_give_the_same_manifest()
    {
        var folder = Directory.CreateTempSubdirectory("uploader-").FullName;
        File.WriteAllText(Path.Combine(folder, "products.csv"), Products);
        Directory.CreateDirectory(Path.Combine(folder, "orders"));
        Directory.CreateDirectory(Path.Combine(folder, "order_items"));
        File.WriteAllText(Path.Combine(folder, "orders", "orders_part1.csv"), Orders);
        var items = Items.Split('\n');
        for (var part = 1; part <= 12; part++)
        {
            File.WriteAllText(Path.Combine(folder, "order_items", $"order_items_part{part:D2}.csv"), $"{items[0]}\n{items[part % 3 + 1]}\n");
        }
        using var s3 = aws.CreateS3();
        var store = new S3BatchStore(s3);
        var reports = new List<long>();
        var progress = new SynchronousProgress(reports);

        var first = await new BatchUploader(s3, store).UploadAsync(Bucket, folder, "uploaded-twice", progress, CancellationToken.None);
        var second = await new BatchUploader(s3, store).UploadAsync(Bucket, folder, "uploaded-twice", null, CancellationToken.None);

        var total = Directory.EnumerateFiles(folder, "*.csv", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.Equal(total, first.Bytes);
        Assert.Equal(total, reports[^1]);
        Assert.Equal(reports.Order(), reports);
        Assert.Equal(first.ManifestETag, second.ManifestETag);
        var batch = await OpenAsync(store, first.ManifestKey);
        Assert.Equal(14, batch.Files.Count);
        Assert.Equal(["products.csv", "orders/orders_part1.csv", .. Enumerable.Range(1, 12).Select(p => $"order_items/order_items_part{p:D2}.csv")],
            batch.Files.Select(f => f.Name));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task An_uploaded_folder_of_compressed_and_plain_files_is_listed_by_its_names_and_streams_through_the_engine()
    {
        var folder = Directory.CreateTempSubdirectory("uploader-compressed-").FullName;
        Directory.CreateDirectory(Path.Combine(folder, "orders"));
        Directory.CreateDirectory(Path.Combine(folder, "order_items"));
        var items = Items.Split('\n');
        WriteCompressed(Path.Combine(folder, "products.csv.gz"), Products, PartCompression.Gzip);
        WriteCompressed(Path.Combine(folder, "orders", "orders_part1.csv.zst"), Orders, PartCompression.Zstd);
        WriteCompressed(Path.Combine(folder, "order_items", "order_items_part1.csv.gz"), string.Join('\n', items[..3]) + "\n", PartCompression.Gzip);
        File.WriteAllText(Path.Combine(folder, "order_items", "order_items_part2.csv"), items[0] + "\n" + items[3] + "\n");
        using var s3 = aws.CreateS3();
        var store = new S3BatchStore(s3);

        var uploaded = await new BatchUploader(s3, store).UploadAsync(Bucket, folder, "compressed-upload", null, CancellationToken.None);
        var batch = await OpenAsync(store, uploaded.ManifestKey);
        var result = new BatchProcessor().Process(store.ToEngineInput(Bucket, batch.Files));

        Assert.Equal(
            [("data/compressed-upload/products.csv.gz", "products.csv.gz"),
             ("data/compressed-upload/orders/orders_part1.csv.zst", "orders/orders_part1.csv.zst"),
             ("data/compressed-upload/order_items/order_items_part1.csv.gz", "order_items/order_items_part1.csv.gz"),
             ("data/compressed-upload/order_items/order_items_part2.csv", "order_items/order_items_part2.csv")],
            batch.Files.Select(f => (f.Key, f.Name)));
        Assert.True(result.Accepted, string.Join("\n", result.Report.Errors));
        var plain = new BatchProcessor().Process(new BatchInput(
        [
            BatchPart.FromBytes("products.csv", Engine.Csv.TableKind.Products, Encoding.UTF8.GetBytes(Products)),
            BatchPart.FromBytes("orders.csv", Engine.Csv.TableKind.Orders, Encoding.UTF8.GetBytes(Orders)),
            BatchPart.FromBytes("order_items.csv", Engine.Csv.TableKind.OrderItems, Encoding.UTF8.GetBytes(Items)),
        ]));
        Assert.Equal(KpiCalculator.Compute(plain.Kpis!), KpiCalculator.Compute(result.Kpis!), new KpiTablesComparer());
        Directory.Delete(folder, recursive: true);
    }

    private static void WriteCompressed(string path, string content, PartCompression compression)
    {
        using var output = PartFormat.Compress(File.Create(path), compression);
        output.Write(Encoding.UTF8.GetBytes(content));
    }

    /// <summary>Keeps every report in the order it was made (a <see cref="Progress{T}"/> would post them for later).</summary>
    private sealed class SynchronousProgress(List<long> reports) : IProgress<long>
    {
        public void Report(long value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("""{"date":"x"}""", "no \"files\" object")]
    [InlineData("""{"files":{"orders":[],"order_items":["a.csv"]}}""", "no orders files")]
    [InlineData("""{"files":{"orders":["../../secrets.csv"],"order_items":["a.csv"]}}""", "expected a .csv, .csv.gz or .csv.zst file name")]
    [InlineData("""{"files":{"orders":["a.csv"],"order_items":["a.csv"],"products":"processed/other/products.csv"}}""", "inside data/")]
    [InlineData("""{"files":{"orders":["a.csv"],"order_items":["a.csv"],"products":"data/../errors/products.csv"}}""", "without '..'")]
    [InlineData("""{"files":{"orders":["missing.csv"],"order_items":["a.csv"]}}""", "does not exist")]
    [InlineData("""{"files":{"orders":["a.csv"],"order_items":["a.csv"],"products":"data/20250409/products.csv"}}""", "is another batch's file")]
    [InlineData("""{"files":{"orders":["a.csv"],"order_items":["a.csv"],"products":"/data/products.csv"}}""", "inside data/")]
    public async Task A_bad_manifest_is_refused_with_a_reason_a_person_can_act_on(string manifest, string reason)
    {
        using var s3 = aws.CreateS3();
        var name = $"bad-{Guid.NewGuid():N}";
        var manifestKey = await UploadAsync(s3, name, manifest, ("order_items/a.csv", Items));

        var error = await Assert.ThrowsAsync<BatchLayoutException>(() => OpenAsync(new S3BatchStore(s3), manifestKey));

        Assert.Contains(reason, error.Message);
        Assert.Equal(ValidationRule.UnreadableManifest, error.Rule);
    }

    [Fact]
    public async Task A_manifest_listing_100_000_files_is_refused_by_its_size_and_with_a_larger_size_limit_by_its_count_before_any_file_is_looked_for()
    {
        using var s3 = aws.CreateS3();
        var name = $"many-{Guid.NewGuid():N}";
        var parts = Enumerable.Range(1, 100_000).Select(i => $"p{i}.csv").ToList();
        var manifestKey = await UploadAsync(s3, name, System.Text.Encoding.UTF8.GetString(new BatchManifest(name, parts, ["i.csv"], null).ToJson()));

        var bySize = await Assert.ThrowsAsync<BatchLayoutException>(() => OpenAsync(new S3BatchStore(s3), manifestKey));
        // None of the files exists: had one been looked for, the refusal would say so.
        var byCount = await Assert.ThrowsAsync<BatchLayoutException>(
            () => OpenAsync(new S3BatchStore(s3, new BatchLimits { MaxManifestBytes = 4 << 20 }), manifestKey));

        Assert.Equal(ValidationRule.ManifestTooLarge, bySize.Rule);
        Assert.Matches(
            @$"^data/{name}/manifest_{name}\.json: The manifest is [0-9,]+ bytes; at most 1,048,576 are allowed \(Pipeline:Limits:MaxManifestBytes\)\.$",
            bySize.Message);
        Assert.Equal(ValidationRule.TooManyFiles, byCount.Rule);
        Assert.Equal($"data/{name}/orders/p500.csv: The batch lists 100,002 files; at most 500 are allowed (Pipeline:Limits:MaxFiles).", byCount.Message);
    }

    [Fact]
    public async Task Files_beyond_the_size_limits_are_refused_by_their_size_in_S3_before_they_are_read()
    {
        using var s3 = aws.CreateS3();
        var name = $"large-{Guid.NewGuid():N}";
        var manifestKey = await UploadAsync(
            s3, name, """{"files":{"orders":["o.csv"],"order_items":["i.csv"]}}""", ("orders/o.csv", Orders), ("order_items/i.csv", Items));
        var sizes = Encoding.UTF8.GetByteCount(Products) + Encoding.UTF8.GetByteCount(Orders) + Encoding.UTF8.GetByteCount(Items);

        var file = await Assert.ThrowsAsync<BatchLayoutException>(() => OpenAsync(new S3BatchStore(s3, new BatchLimits { MaxFileBytes = 200 }), manifestKey));
        var batch = await Assert.ThrowsAsync<BatchLayoutException>(
            () => OpenAsync(new S3BatchStore(s3, new BatchLimits { MaxBatchBytes = sizes - 1 }), manifestKey));

        Assert.Equal(
            (ValidationRule.FileTooLarge,
                $"data/{name}/orders/o.csv: The file is {Encoding.UTF8.GetByteCount(Orders)} bytes; at most 200 are allowed (Pipeline:Limits:MaxFileBytes)."),
            (file.Rule, file.Message));
        Assert.Equal(ValidationRule.BatchTooLarge, batch.Rule);
        Assert.StartsWith($"data/{name}/order_items/i.csv: The batch's files come to more than {sizes - 1:N0} bytes", batch.Message);
        Assert.True((await OpenAsync(new S3BatchStore(s3, new BatchLimits { MaxBatchBytes = sizes }), manifestKey)).Files.Count == 3);
    }

    [Fact]
    public async Task A_missing_manifest_is_refused_with_its_key()
    {
        using var s3 = aws.CreateS3();

        var error = await Assert.ThrowsAsync<BatchLayoutException>(() =>
            new S3BatchStore(s3).OpenAsync(Bucket, "data/nothing-here/manifest_nothing-here.json", "any", CancellationToken.None));

        Assert.Contains("data/nothing-here/manifest_nothing-here.json does not exist", error.Message);
    }

    [Fact]
    public async Task A_file_that_is_not_the_one_the_manifest_lists_is_refused()
    {
        using var s3 = aws.CreateS3();
        var name = $"etags-{Guid.NewGuid():N}";
        var manifestKey = await UploadAsync(s3, name, """{"files":{"orders":["o.csv"],"order_items":["i.csv"]},"etags":{"orders/o.csv":"0123456789abcdef"}}""",
            ("orders/o.csv", Orders), ("order_items/i.csv", Items));

        var error = await Assert.ThrowsAsync<BatchLayoutException>(() => OpenAsync(new S3BatchStore(s3), manifestKey));

        Assert.Contains("the manifest lists 0123456789abcdef", error.Message);
    }

    [Fact]
    public async Task The_same_input_read_twice_gives_the_same_batch_the_second_time_too()
    {
        // Validate reads a rejected batch's parts a second time to locate conflicting ids: a part fetched ahead is handed
        // to the engine once, and read again from S3 when it is opened again.
        using var s3 = aws.CreateS3();
        var lines = Items.Split('\n');
        var manifestKey = await UploadAsync(
            s3, $"twice-{Guid.NewGuid():N}", """{"files":{"orders":["o.csv"],"order_items":["i1.csv","i2.csv"]}}""", ("orders/o.csv", Orders),
            ("order_items/i1.csv", string.Join('\n', lines[..3]) + "\n"), ("order_items/i2.csv", lines[0] + "\n" + lines[3] + "\n"));
        var store = new S3BatchStore(s3);
        var input = store.ToEngineInput(Bucket, (await OpenAsync(store, manifestKey)).Files);

        var first = new BatchProcessor().Process(input);
        var second = new BatchProcessor().Process(input);

        Assert.True(first.Accepted && second.Accepted);
        Assert.Equal((7L, 7L), (first.Report.RowsRead, second.Report.RowsRead));
        Assert.Equal(KpiCalculator.Compute(first.Kpis!), KpiCalculator.Compute(second.Kpis!), new KpiTablesComparer());
    }

    [Fact]
    public async Task A_file_overwritten_after_the_batch_was_opened_is_not_read_as_the_batchs()
    {
        using var s3 = aws.CreateS3();
        var name = $"changed-{Guid.NewGuid():N}";
        var manifestKey = await UploadAsync(
            s3, name, """{"files":{"orders":["o.csv"],"order_items":["i.csv"]}}""", ("orders/o.csv", Orders), ("order_items/i.csv", Items));
        var store = new S3BatchStore(s3);
        var batch = await OpenAsync(store, manifestKey);

        await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = Bucket,
            Key = $"data/{name}/orders/o.csv",
            ContentBody = Orders + "3,9,pending,2025-03-10T10:00:00,,,,1\n",
        });

        Assert.Throws<BatchChangedException>(() => new BatchProcessor().Process(store.ToEngineInput(Bucket, batch.Files)));
    }

    [Fact]
    public async Task Archiving_moves_exactly_the_versions_own_files_never_a_shared_master_or_a_newer_uploads_file()
    {
        using var s3 = aws.CreateS3();
        var name = $"archived-{Guid.NewGuid():N}";
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "data/shared/products.csv", ContentBody = Products });
        var manifestKey = await UploadAsync(
            s3, name, """{"files":{"orders":["o.csv"],"order_items":["i.csv","j.csv"],"products":"data/shared/products.csv"}}""",
            ("orders/o.csv", Orders), ("order_items/i.csv", Items), ("order_items/j.csv", Items.Split('\n')[0] + "\n"));
        var store = new S3BatchStore(s3);
        var batch = await OpenAsync(store, manifestKey);
        // A newer upload of the batch is on its way: it replaced one part and added another.
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = $"data/{name}/order_items/j.csv", ContentBody = Items });
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = $"data/{name}/order_items/k.csv", ContentBody = Items });

        var moved = await new BatchArchive(s3).ArchiveAsync(Bucket, name, 4, batch.Content, BatchLayout.ErrorsPrefix, CancellationToken.None);

        // The manifest last: while it is in data/, the files it lists are too.
        Assert.Equal([$"errors/{name}/v4/orders/o.csv", $"errors/{name}/v4/order_items/i.csv", $"errors/{name}/v4/manifest_{name}.json"], moved);
        var remaining = ((await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = $"data/{name}/" })).S3Objects ?? [])
            .Select(o => o.Key);
        Assert.Equal([$"data/{name}/order_items/j.csv", $"data/{name}/order_items/k.csv"], remaining.Order());
        Assert.Equal(Orders, await ReadAsync(s3, $"errors/{name}/v4/orders/o.csv"));
        Assert.Equal(Products, await ReadAsync(s3, "data/shared/products.csv"));

        // A second delivery finds nothing left to move and does not fail.
        Assert.Empty(await new BatchArchive(s3).ArchiveAsync(Bucket, name, 4, batch.Content, BatchLayout.ErrorsPrefix, CancellationToken.None));
    }

    /// <summary>
    /// What keeps a newer upload that lands between the archive's listing and its copy or delete (the listing cannot see
    /// it): S3's ETag conditions, which the local S3 holds to as AWS does (Emulators/s3-conditions.mjs).
    /// </summary>
    [Fact]
    public async Task A_copy_or_delete_conditioned_on_an_older_ETag_leaves_a_newer_upload_in_place()
    {
        using var s3 = aws.CreateS3();
        var key = $"data/conditions-{Guid.NewGuid():N}/orders/o.csv";
        var older = (await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, ContentBody = Orders })).ETag;
        var newer = (await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, ContentBody = Orders + Orders })).ETag;

        var copy = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.CopyObjectAsync(new CopyObjectRequest
        {
            SourceBucket = Bucket,
            SourceKey = key,
            DestinationBucket = Bucket,
            DestinationKey = key + ".copy",
            ETagToMatch = older,
        }));
        var delete = await Assert.ThrowsAsync<DeleteObjectsException>(() => s3.DeleteObjectsAsync(new DeleteObjectsRequest
        {
            BucketName = Bucket,
            Objects = [new KeyVersion { Key = key, ETag = older }],
            Quiet = true,
        }));

        Assert.Equal(System.Net.HttpStatusCode.PreconditionFailed, copy.StatusCode);
        Assert.Equal([(key, "PreconditionFailed")], delete.Response.DeleteErrors.Select(e => (e.Key, e.Code)));
        Assert.Equal(Orders + Orders, await ReadAsync(s3, key));
        Assert.Empty(((await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = key + ".copy" })).S3Objects ?? []));

        // The object's own ETag: the copy is made and the delete done, as without conditions.
        await s3.CopyObjectAsync(new CopyObjectRequest
        {
            SourceBucket = Bucket,
            SourceKey = key,
            DestinationBucket = Bucket,
            DestinationKey = key + ".copy",
            ETagToMatch = newer,
        });
        var deleted = await s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = Bucket, Objects = [new KeyVersion { Key = key, ETag = newer }] });
        Assert.Equal([key], deleted.DeletedObjects.Select(d => d.Key));
        Assert.Equal(Orders + Orders, await ReadAsync(s3, key + ".copy"));
        var left = (await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = key })).S3Objects ?? [];
        Assert.DoesNotContain(left, o => o.Key == key);
    }

    [Fact]
    public async Task A_file_uploaded_in_parts_is_archived_too()
    {
        using var s3 = aws.CreateS3();
        var name = $"multipart-{Guid.NewGuid():N}";
        var store = new S3BatchStore(s3);
        // Above the 8 MiB part size: a multipart upload, whose ETag is not an MD5 (and its copy's is).
        var big = Path.GetTempFileName();
        await File.WriteAllTextAsync(big, Orders + string.Concat(Enumerable.Range(3, 200_000)
            .Select(id => $"{id},7,delivered,2025-03-08T10:00:00,,2025-03-09T10:00:00,2025-03-10T10:00:00,1\n")));
        await store.UploadFileAsync(Bucket, $"data/{name}/orders/big.csv", big, null, CancellationToken.None);
        var manifestKey = await UploadAsync(s3, name, """{"files":{"orders":["big.csv"],"order_items":["i.csv"]}}""", ("order_items/i.csv", Items));
        var batch = await OpenAsync(store, manifestKey);

        var moved = await new BatchArchive(s3).ArchiveAsync(Bucket, name, 1, batch.Content, BatchLayout.ProcessedPrefix, CancellationToken.None);

        Assert.Contains($"processed/{name}/v1/orders/big.csv", moved);
        Assert.Equal(new FileInfo(big).Length, (await s3.GetObjectMetadataAsync(Bucket, $"processed/{name}/v1/orders/big.csv")).ContentLength);
        File.Delete(big);
    }

    private async Task<StoredBatch> OpenAsync(S3BatchStore store, string manifestKey) =>
        await store.OpenAsync(Bucket, manifestKey, (await store.ManifestAsync(Bucket, manifestKey, CancellationToken.None))!.ETag, CancellationToken.None);

    private async Task<string> UploadAsync(AmazonS3Client s3, string batch, string manifest, params (string Path, string Content)[] files)
    {
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = BatchLayout.ProductMasterKey, ContentBody = Products });
        foreach (var (path, content) in files)
        {
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = $"data/{batch}/{path}", ContentBody = content });
        }
        var manifestKey = BatchLayout.ManifestKey(batch);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = manifestKey, ContentBody = manifest });
        return manifestKey;
    }

    private async Task<string> ReadAsync(AmazonS3Client s3, string key)
    {
        using var response = await s3.GetObjectAsync(Bucket, key);
        using var reader = new StreamReader(response.ResponseStream);
        return await reader.ReadToEndAsync();
    }

    private sealed class KpiTablesComparer : IEqualityComparer<KpiTables>
    {
        public bool Equals(KpiTables? x, KpiTables? y) =>
            x!.CategoryKpis.SequenceEqual(y!.CategoryKpis) && x.OrderKpis.SequenceEqual(y.OrderKpis);

        public int GetHashCode(KpiTables obj) => obj.OrderKpis.Count;
    }
}
