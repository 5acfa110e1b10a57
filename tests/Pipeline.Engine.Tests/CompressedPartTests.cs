using System.IO.Compression;
using System.Text;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Generation;
using Pipeline.Engine.Validation;
using Pipeline.Testing;
using static Pipeline.Engine.Tests.TestBatches;

namespace Pipeline.Engine.Tests;

/// <summary>
/// Parts stored as <c>.csv.gz</c> and <c>.csv.zst</c>: read as their plain twins would be, line numbers as a person sees
/// them after decompressing, a corrupt or truncated file rejected by name and byte offset, a bomb stopped at its limit.
/// </summary>
public sealed class CompressedPartTests
{
    [SeedDataFact]
    public void The_seed_data_gzipped_gives_the_same_report_counts_and_kpis_as_plain()
    {
        string gzipped = CompressedCopy(SeedData.Directory!, _ => PartCompression.Gzip);
        try
        {
            BatchInput plain = LocalBatchFolder.Open(SeedData.Directory!);
            BatchInput compressed = LocalBatchFolder.Open(gzipped);
            var progress = new ProgressCounter();

            BatchResult plainResult = new BatchProcessor().Process(plain);
            BatchResult compressedResult = new BatchProcessor().Process(compressed, progress);

            Assert.True(compressedResult.Accepted, string.Join("\n", compressedResult.Report.Errors));
            Assert.All(compressed.Parts, part => Assert.EndsWith(".csv.gz", part.Name, StringComparison.Ordinal));
            Assert.Equal(plainResult.Report.RowsRead, compressedResult.Report.RowsRead);
            Assert.Equal(KpiTests.Csv(plainResult.Kpis!), KpiTests.Csv(compressedResult.Kpis!));
            // Progress counts the files as stored, so that it ends at the batch's (compressed) size.
            Assert.Equal(compressed.TotalLength, progress.Done);
            Assert.True(compressed.TotalLength < plain.TotalLength / 2, $"{compressed.TotalLength} bytes gzipped of {plain.TotalLength}");
        }
        finally
        {
            Directory.Delete(gzipped, recursive: true);
        }
    }

    [Fact]
    public void A_batch_mixing_plain_gzip_and_zstd_parts_gives_the_kpis_of_the_plain_batch()
    {
        string plain = Generate(orders: 3_000, parts: 3);
        PartCompression[] formats = [PartCompression.None, PartCompression.Gzip, PartCompression.Zstd];
        int next = 0;
        string mixed = CompressedCopy(plain, _ => formats[next++ % formats.Length]);
        try
        {
            BatchInput input = LocalBatchFolder.Open(mixed);
            Assert.Equal(3, input.Parts.Select(part => PartFormat.CompressionOf(part.Name)).Distinct().Count());

            BatchResult result = new BatchProcessor().Process(input);

            Assert.True(result.Accepted, string.Join("\n", result.Report.Errors));
            Assert.Equal(KpiTests.Csv(KpiTests.Accepted(LocalBatchFolder.Open(plain))), KpiTests.Csv(result.Kpis!));
        }
        finally
        {
            Directory.Delete(plain, recursive: true);
            Directory.Delete(mixed, recursive: true);
        }
    }

    [Theory]
    [InlineData(PartCompression.Gzip)]
    [InlineData(PartCompression.Zstd)]
    public void The_generator_writes_compressed_batches_that_give_the_kpis_of_its_plain_ones(PartCompression compression)
    {
        string plain = Generate(orders: 2_000, parts: 2);
        string directory = Path.Combine(Path.GetTempPath(), "pipeline-engine-tests", Guid.NewGuid().ToString("N"));
        SyntheticBatchGenerator.Generate(directory, new GeneratorOptions(2_000, 2, 7, Days: 10, Products: 500) { Compression = compression });
        try
        {
            BatchInput input = LocalBatchFolder.Open(directory);
            Assert.Equal(5, input.Parts.Count);
            Assert.All(input.Parts, part => Assert.Equal(compression, PartFormat.CompressionOf(part.Name)));
            Assert.Equal(KpiTests.Csv(KpiTests.Accepted(LocalBatchFolder.Open(plain))), KpiTests.Csv(KpiTests.Accepted(input)));
        }
        finally
        {
            Directory.Delete(plain, recursive: true);
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(PartCompression.Gzip, "order_items.csv.gz")]
    [InlineData(PartCompression.Zstd, "order_items.csv.zst")]
    public void A_line_error_inside_a_compressed_part_names_the_line_after_decompressing(PartCompression compression, string name)
    {
        // Enough rows that the bad one lies far beyond the first chunk the reader takes.
        var items = new StringBuilder(ItemsHeader);
        for (int id = 1; id <= 20_000; id++)
        {
            items.Append(id).Append(",1,10,1,delivered,2025-03-08T10:05:00,,,,").Append(id == 15_000 ? "12,5" : "12.5").Append('\n');
        }

        BatchResult result = Process(InMemory(
            [Part("products.csv", TableKind.Products, Products)],
            [Part("orders.csv", TableKind.Orders, Orders)],
            [Part(name, TableKind.OrderItems, Compress(Encoding.UTF8.GetBytes(items.ToString()), compression))]));

        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal((name, 15_001L, ValidationRule.FieldCount), (error.File, error.Line, error.Rule));
        Assert.Equal(20_000, result.Report.Files.Single(file => file.File == name).RowsRead);
    }

    [Theory]
    [InlineData(PartCompression.Gzip, "orders.csv.gz")]
    [InlineData(PartCompression.Zstd, "orders.csv.zst")]
    public void A_truncated_compressed_part_is_rejected_naming_the_file_and_where_it_ends(PartCompression compression, string name)
    {
        byte[] whole = Compress(ManyOrders(5_000), compression);
        byte[] truncated = whole[..(whole.Length * 2 / 3)];

        // Read in small pieces, as a download arrives: the end of the file is still found.
        ValidationError error = Assert.Single(Process(InMemory(
            [Part("products.csv", TableKind.Products, Products)],
            [new BatchPart(name, TableKind.Orders, () => new TrickleStream(truncated), truncated.Length)],
            [Part("order_items.csv", TableKind.OrderItems, ItemsHeader)])).Report.Errors);

        Assert.Equal((ValidationRule.CorruptCompressed, name), (error.Rule, error.File));
        Assert.StartsWith($"The {PartFormat.Name(compression)} data ", error.Message, StringComparison.Ordinal);
        Assert.Contains($"byte {BatchLimits.Count(truncated.Length)} of the file", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PartCompression.Gzip, "orders.csv.gz")]
    [InlineData(PartCompression.Zstd, "orders.csv.zst")]
    public void A_corrupt_compressed_part_is_rejected_naming_the_file_and_a_byte_offset(PartCompression compression, string name)
    {
        byte[] corrupt = Compress(ManyOrders(5_000), compression);
        for (int at = corrupt.Length / 2; at < (corrupt.Length / 2) + 64; at++)
        {
            corrupt[at] ^= 0x5A;
        }

        BatchResult result = Process(InMemory(
            [Part("products.csv", TableKind.Products, Products)],
            [Part(name, TableKind.Orders, corrupt)],
            [Part("order_items.csv", TableKind.OrderItems, ItemsHeader)]));

        // The rows decoded before the damage was found may be garbage and fill the report: the damage leads it.
        Assert.False(result.Accepted);
        ValidationError error = result.Report.Errors[0];
        Assert.Equal((ValidationRule.CorruptCompressed, name), (error.Rule, error.File));
        Assert.Matches(@"byte [0-9,]+ of the file", error.Message);
        Assert.Contains(result.Report.Files, file => file.File == name && file.ErrorCounts.ContainsKey(ValidationRule.CorruptCompressed));
    }

    [Fact]
    public void A_part_that_is_not_in_the_format_its_name_says_is_rejected_as_such()
    {
        ValidationError error = Assert.Single(Process(InMemory(
            [Part("products.csv", TableKind.Products, Products)],
            [Part("orders.csv.gz", TableKind.Orders, Orders)],
            [Part("order_items.csv", TableKind.OrderItems, ItemsHeader)])).Report.Errors);

        Assert.Equal((ValidationRule.CorruptCompressed, "orders.csv.gz", 1L), (error.Rule, error.File, error.Line));
    }

    [Theory]
    [InlineData(PartCompression.Gzip)]
    [InlineData(PartCompression.Zstd)]
    public void A_decompression_bomb_is_stopped_at_its_limit_with_memory_bounded(PartCompression compression)
    {
        // 60 KB or so that decompress to 1 GiB of blank lines, read one worker on this thread so its allocations are counted.
        byte[] bomb = Bomb(OrdersHeader, 1L << 30, compression);
        var limits = new BatchLimits { MaxDecompressedFileBytes = 32L << 20 };
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        BatchResult result = Process(
            InMemory(
                [Part("products.csv", TableKind.Products, Products)],
                [Part("orders" + PartFormat.ExtensionOf(compression), TableKind.Orders, bomb)],
                [Part("order_items.csv", TableKind.OrderItems, ItemsHeader)]),
            new EngineOptions { Limits = limits, MaxDegreeOfParallelism = 1 });

        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal(ValidationRule.DecompressedFileTooLarge, error.Rule);
        Assert.Equal(
            "The file decompresses to more than 33,554,432 bytes (Pipeline:Limits:MaxDecompressedFileBytes); the rest of it was not read.",
            error.Message);
        Assert.True(bomb.Length < 8 << 20, $"the bomb is {bomb.Length} bytes");
        Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated");
    }

    [Fact]
    public void Compressed_parts_that_decompress_to_more_than_the_batch_limit_together_are_stopped_by_name()
    {
        byte[] blankLines = Bomb(OrdersHeader, 24L << 20, PartCompression.Gzip);
        var limits = new BatchLimits { MaxDecompressedFileBytes = 32L << 20, MaxDecompressedBatchBytes = 40L << 20 };

        BatchResult result = Process(
            InMemory(
                [Part("products.csv", TableKind.Products, Products)],
                [Part("orders/a.csv.gz", TableKind.Orders, blankLines), Part("orders/b.csv.gz", TableKind.Orders, blankLines)],
                [Part("order_items.csv", TableKind.OrderItems, ItemsHeader)]),
            new EngineOptions { Limits = limits });

        // Read at once, both parts may cross the limit before either stops: each that does is stopped by it.
        Assert.False(result.Accepted);
        Assert.All(result.Report.Errors, error =>
        {
            Assert.Equal(ValidationRule.DecompressedBatchTooLarge, error.Rule);
            Assert.StartsWith("orders/", error.File, StringComparison.Ordinal);
            Assert.Contains(
                "more than 41,943,040 bytes together by this one (Pipeline:Limits:MaxDecompressedBatchBytes)", error.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void A_zstd_part_that_asks_for_a_window_beyond_8_MiB_is_refused_before_the_window_is_taken()
    {
        var buffer = new MemoryStream();
        using (var zstd = new ZstdSharp.CompressionStream(buffer, level: 3, leaveOpen: false))
        {
            zstd.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_windowLog, 27);
            zstd.Write(ManyOrders(100));
        }

        ValidationError error = Assert.Single(Process(InMemory(
            [Part("products.csv", TableKind.Products, Products)],
            [Part("orders.csv.zst", TableKind.Orders, buffer.ToArray())],
            [Part("order_items.csv", TableKind.OrderItems, ItemsHeader)])).Report.Errors);

        Assert.Equal((ValidationRule.CorruptCompressed, "orders.csv.zst"), (error.Rule, error.File));
        Assert.Contains("memory", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Only_csv_gz_and_csv_zst_are_compressed_part_names()
    {
        Assert.Equal(PartCompression.None, PartFormat.CompressionOf("orders/part1.csv"));
        Assert.Equal(PartCompression.Gzip, PartFormat.CompressionOf("orders/part1.csv.gz"));
        Assert.Equal(PartCompression.Zstd, PartFormat.CompressionOf("orders/part1.csv.zst"));
        Assert.Null(PartFormat.CompressionOf("orders/part1.gz"));
        Assert.Null(PartFormat.CompressionOf("orders/part1.csv.bz2"));
    }

    /// <summary>A copy of a batch folder with each file stored as <paramref name="format"/> says (called once per file, in order).</summary>
    private static string CompressedCopy(string source, Func<string, PartCompression> format)
    {
        string target = Path.Combine(Path.GetTempPath(), "pipeline-engine-tests", Guid.NewGuid().ToString("N"));
        foreach (string file in Directory.EnumerateFiles(source, "*.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string relative = Path.GetRelativePath(source, file);
            PartCompression compression = format(relative);
            string path = Path.Combine(target, relative[..^".csv".Length] + PartFormat.ExtensionOf(compression));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using Stream output = PartFormat.Compress(File.Create(path), compression);
            using FileStream input = File.OpenRead(file);
            input.CopyTo(output);
        }
        return target;
    }

    /// <summary>A header and then blank lines up to <paramref name="bytes"/>, compressed as hard as the format goes.</summary>
    internal static byte[] Bomb(string header, long bytes, PartCompression compression)
    {
        var buffer = new MemoryStream();
        using (Stream output = compression == PartCompression.Gzip
            ? new GZipStream(buffer, CompressionLevel.SmallestSize)
            : PartFormat.Compress(buffer, compression))
        {
            output.Write(Encoding.UTF8.GetBytes(header));
            byte[] newlines = new byte[1 << 20];
            Array.Fill(newlines, (byte)'\n');
            for (long written = header.Length; written < bytes; written += newlines.Length)
            {
                output.Write(newlines);
            }
        }
        return buffer.ToArray();
    }

    private static byte[] ManyOrders(int count)
    {
        var orders = new StringBuilder(OrdersHeader);
        for (int id = 1; id <= count; id++)
        {
            orders.Append(id).Append(",10,delivered,2025-03-08T10:00:00,,2025-03-09T10:00:00,2025-03-10T10:00:00,2\n");
        }
        return Encoding.UTF8.GetBytes(orders.ToString());
    }

    /// <summary>Hands out at most 1,000 bytes a read, as a network stream may.</summary>
    private sealed class TrickleStream(byte[] content) : MemoryStream(content, writable: false)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, 1_000)]);

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1_000));
    }
}
