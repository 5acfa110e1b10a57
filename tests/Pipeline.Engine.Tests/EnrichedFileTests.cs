using Pipeline.Engine.Batches;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Tests;

public sealed class EnrichedFileTests
{
    [Fact]
    public void Records_read_back_into_exactly_the_kpis_they_were_written_from()
    {
        var random = new Random(7);
        var writtenCategories = new CategoryIndex();
        var direct = new KpiAccumulator(writtenCategories);
        using var file = new MemoryStream();
        using (var writer = new EnrichedFile.Writer(file, leaveOpen: true))
        {
            for (int i = 1; i <= 2_000; i++)
            {
                var day = new DateOnly(2025, 3, 8).AddDays(random.Next(30));
                var order = new OrderFact(i, random.Next(1, 500), (OrderStatus)random.Next(4), day, random.Next(1, 4));
                direct.Add(order);
                writer.Write(order);
                var category = writtenCategories.GetOrAdd(new[] { "Jeans", "Outerwear & Coats", "Électronique", "Socks" }[random.Next(4)]);
                // Prices with 0 to 4 decimals, including some past what a long-free float would keep exactly.
                var price = Math.Round((decimal)random.NextDouble() * 1000, random.Next(5)) + 0.0001m * random.Next(2);
                var created = day.AddDays(random.Next(2)).ToDateTime(new TimeOnly(random.Next(24), random.Next(60), random.Next(60)), DateTimeKind.Utc);
                var item = new EnrichedOrderItem(
                    i * 10, i, order.UserId, random.Next(1, 100), category, (OrderStatus)random.Next(4), new ItemTimes(created, null, null, null), price);
                direct.Add(item);
                writer.Write(item);
            }
        }

        file.Position = 0;
        var readCategories = new CategoryIndex();
        var read = new KpiAccumulator(readCategories);
        var counts = EnrichedFile.ReadInto(file, read, readCategories);

        Assert.Equal(new EnrichedFile.Counts(2_000, 2_000), counts);
        Assert.Equal(KpiPartialJson.Serialize(direct.ToPartial()), KpiPartialJson.Serialize(read.ToPartial()));
        Assert.True(file.Length < 2_000 * 40, $"{file.Length} bytes for 4,000 records is not compact");
    }

    [Fact]
    public void A_truncated_file_is_an_error_not_a_shortfall()
    {
        var categories = new CategoryIndex();
        using var file = new MemoryStream();
        using (var writer = new EnrichedFile.Writer(file, leaveOpen: true))
        {
            for (int i = 1; i <= 500; i++)
            {
                writer.Write(new OrderFact(i, i, OrderStatus.Delivered, new DateOnly(2025, 3, 8), 1));
            }
        }
        var cut = new MemoryStream(file.ToArray()[..(int)(file.Length / 2)]);

        var error = Assert.ThrowsAny<InvalidDataException>(() => EnrichedFile.ReadInto(cut, new KpiAccumulator(categories), categories));

        Assert.Contains("truncated", error.Message + error.InnerException?.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })] // eleven bytes: no 64-bit varint is that long
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02 })] // a tenth byte holding more than the 64th bit
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF })] // cut in the middle of a varint
    public void A_corrupt_or_cut_varint_is_an_invalid_file_not_another_kind_of_error(byte[] orderId)
    {
        using var file = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write([.. "PEN3"u8, (byte)'O', .. orderId]);
        }
        file.Position = 0;
        var categories = new CategoryIndex();

        var error = Assert.Throws<InvalidDataException>(() => EnrichedFile.ReadInto(file, new KpiAccumulator(categories), categories));

        Assert.Matches("varint|truncated", error.Message);
    }

    [Theory]
    [InlineData(long.MaxValue, 2)] // one file per table
    [InlineData(1L, 12)] // no two parts fit: one file per part
    public void A_batchs_parts_combined_into_files_of_a_table_each_read_back_into_the_engines_kpis(long maxBytes, int expectedFiles)
    {
        var (result, files, output) = TransformGenerated(maxBytes);
        using var disposeOutput = output;

        Assert.Equal(expectedFiles, files.Count);
        Assert.All(files, f => Assert.Matches(@"^(orders|order_items)/\d{4}\.pen$", f.Name));
        Assert.Equal(expectedFiles / 2, files.Count(f => f.Name.StartsWith("orders/", StringComparison.Ordinal)));
        var kpis = ReadBack(files, out var counts);
        Assert.Equal(new EnrichedFile.Counts(result.Report.RowsOf(Csv.TableKind.Orders), result.Report.RowsOf(Csv.TableKind.OrderItems)), counts);
        AssertSameKpis(KpiCalculator.Compute(result.Kpis!), kpis);
    }

    [Fact]
    public void Parts_are_combined_up_to_the_size_limit()
    {
        var (_, single, singleOutput) = TransformGenerated(1L);
        long largestPart = single.Max(f => new FileInfo(f.Path).Length);
        singleOutput.Dispose();

        var (result, files, output) = TransformGenerated(2 * largestPart);
        using var disposeOutput = output;

        Assert.InRange(files.Count, 3, 6); // six parts per table, at least two in each file but a table's last
        Assert.All(files, f => Assert.True(new FileInfo(f.Path).Length <= 2 * largestPart + 64, $"{f.Name} is larger than the limit"));
        AssertSameKpis(KpiCalculator.Compute(result.Kpis!), ReadBack(files, out _));
    }

    [Fact]
    public void A_combined_file_cut_between_two_of_its_parts_is_an_error()
    {
        var (_, files, output) = TransformGenerated(long.MaxValue);
        using var disposeOutput = output;
        var bytes = File.ReadAllBytes(files[0].Path);
        // The members are gzip streams: find where the last part's member ends (the trailer's member starts with the gzip magic).
        int trailer = LastIndexOf(bytes, [0x1f, 0x8b, 0x08]);
        int lastPart = LastIndexOf(bytes.AsSpan(0, trailer).ToArray(), [0x1f, 0x8b, 0x08]);
        var categories = new CategoryIndex();

        foreach (var cut in new[] { trailer, lastPart })
        {
            var error = Assert.Throws<InvalidDataException>(
                () => EnrichedFile.ReadInto(new MemoryStream(bytes[..cut]), new KpiAccumulator(categories), categories));
            Assert.Contains("truncated", error.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>A generated batch through the engine into <see cref="EnrichedPartFiles"/>, combined; dispose the output.</summary>
    private static (BatchResult Result, IReadOnlyList<(string Name, string Path)> Files, EnrichedPartFiles Output) TransformGenerated(long maxBytes)
    {
        var folder = TestBatches.Generate(orders: 3_000, parts: 6);
        try
        {
            var output = new EnrichedPartFiles();
            var result = new BatchProcessor().Process(LocalBatchFolder.Open(folder), output: output);
            Assert.True(result.Accepted);
            return (result, output.Combine(maxBytes), output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static KpiTables ReadBack(IReadOnlyList<(string Name, string Path)> files, out EnrichedFile.Counts total)
    {
        var categories = new CategoryIndex();
        var kpis = new KpiAccumulator(categories);
        total = default;
        foreach (var file in files)
        {
            using var stream = File.OpenRead(file.Path);
            var counts = EnrichedFile.ReadInto(stream, kpis, categories);
            total = new EnrichedFile.Counts(total.Orders + counts.Orders, total.Items + counts.Items);
        }
        return KpiCalculator.Compute(kpis.ToPartial());
    }

    private static void AssertSameKpis(KpiTables expected, KpiTables actual)
    {
        Assert.Equal(expected.OrderKpis, actual.OrderKpis);
        Assert.Equal(expected.CategoryKpis, actual.CategoryKpis);
    }

    private static int LastIndexOf(byte[] bytes, byte[] pattern) => bytes.AsSpan().LastIndexOf(pattern);
}
