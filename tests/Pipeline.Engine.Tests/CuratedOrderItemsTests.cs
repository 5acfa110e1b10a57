using System.Globalization;
using System.Numerics;
using DuckDB.NET.Data;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Curated;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Transform;
using Pipeline.Engine.Validation;
using Pipeline.Testing;
using Pipeline.Topology;

namespace Pipeline.Engine.Tests;

/// <summary>Item times from the CSV to the enriched file and the analysts' Parquet, read back with DuckDB.</summary>
public sealed class CuratedOrderItemsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("curated-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("2025-03-27T17:14:29", 2025, 3, 27, 17, 14, 29)]
    [InlineData("2024-02-29T23:59:59", 2024, 2, 29, 23, 59, 59)]
    [InlineData("0001-01-01T00:00:00", 1, 1, 1, 0, 0, 0)]
    public void A_timestamp_is_the_utc_instant_it_names_to_the_second(string text, int year, int month, int day, int hour, int minute, int second)
    {
        Assert.True(FieldParsers.TryParseUtcTimestamp(text, out DateTime utc));
        Assert.Equal(new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc), utc);
        Assert.Equal(DateTimeKind.Utc, utc.Kind);
    }

    [Theory]
    [InlineData("2025-03-27T17:14:29Z")] // the contract's timestamps carry no offset: they are UTC
    [InlineData("2025-03-27T17:14:29+02:00")]
    [InlineData("2025-03-27T17:14:29.123")] // nor fractions
    [InlineData("2025-03-27 17:14:29")]
    [InlineData("2025-02-29T10:00:00")]
    [InlineData("")]
    public void Offsets_fractions_and_other_forms_are_not_timestamps(string text) =>
        Assert.False(FieldParsers.TryParseUtcTimestamp(text, out _));

    [Fact]
    public void The_engines_items_carry_the_csv_times_and_empty_ones_as_null()
    {
        var (batch, items) = Transform(orders: 400);
        var expected = File.ReadLines(Directory.GetFiles(Path.Combine(batch, "order_items")).Single()).Skip(1)
            .Select(line => line.Split(','))
            .ToDictionary(f => long.Parse(f[0], CultureInfo.InvariantCulture), f => new ItemTimes(Utc(f[5])!.Value, Utc(f[6]), Utc(f[7]), Utc(f[8])));

        Assert.Equal(expected.Count, items.Count);
        Assert.All(items, item => Assert.Equal(expected[item.ItemId], item.Times));
        Assert.All(items, item => Assert.Equal(DateOnly.FromDateTime(item.Times.CreatedAt), item.OrderDate));
        Assert.Contains(items, item => item.Times.ReturnedAt is null);
        Assert.Contains(items, item => item.Times.ShippedAt is not null);
    }

    [Fact]
    public void Items_with_their_times_come_back_from_an_enriched_file_as_they_were_written()
    {
        var (_, engineItems) = Transform(orders: 300);
        var created = new DateTime(2025, 3, 8, 10, 0, 0, DateTimeKind.Utc).AddTicks(1_234_567_0); // 1.234567 s: microseconds survive
        var first = DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc);
        var last = DateTime.SpecifyKind(DateTime.MaxValue.AddTicks(-9), DateTimeKind.Utc); // the last whole microsecond
        EnrichedOrderItem[] crafted =
        [
            Item(1, new ItemTimes(created, created.AddDays(-1), null, created.AddMicroseconds(1)), 0.5m),
            Item(2, new ItemTimes(last, null, null, null), 1m),
            Item(3, new ItemTimes(first, null, last, null), 2m),
        ];
        var written = engineItems.Concat(crafted).ToList();
        using var file = new MemoryStream();
        using (var writer = new EnrichedFile.Writer(file, leaveOpen: true))
        {
            writer.Write(new OrderFact(1, 10, OrderStatus.Shipped, new DateOnly(2025, 3, 8), 2));
            written.ForEach(item => writer.Write(item));
        }

        file.Position = 0;
        var read = new RecordList();
        var counts = EnrichedFile.ReadRecords(file, read);

        Assert.Equal(new EnrichedFile.Counts(1, written.Count), counts);
        Assert.Equal([new OrderFact(1, 10, OrderStatus.Shipped, new DateOnly(2025, 3, 8), 2)], read.Orders);
        Assert.Equal(written.Select(Comparable), read.Items.Select(Comparable));
        Assert.All(read.Items, item => Assert.Equal(DateTimeKind.Utc, item.Times.CreatedAt.Kind));

        var cut = new MemoryStream(file.ToArray()[..(int)(file.Length * 3 / 4)]);
        var error = Assert.ThrowsAny<InvalidDataException>(() => EnrichedFile.ReadRecords(cut, new RecordList()));
        Assert.Contains("truncated", error.Message + error.InnerException?.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_time_finer_than_a_microsecond_or_not_utc_is_refused_by_the_enriched_writer()
    {
        var created = new DateTime(2025, 3, 8, 10, 0, 0, DateTimeKind.Utc);
        using var writer = new EnrichedFile.Writer(new MemoryStream());

        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(Item(1, new ItemTimes(created.AddTicks(1), null, null, null), 1m)));
        var local = DateTime.SpecifyKind(created, DateTimeKind.Local);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(Item(2, new ItemTimes(created, local, null, null), 1m)));
    }

    [Theory]
    [InlineData(0, CuratedCompression.Zstd)] // one CuratedOrderItemsWriter on the caller's thread
    [InlineData(3, CuratedCompression.Zstd)] // a ParallelCuratedWriter: three writers, days shared among them
    [InlineData(0, CuratedCompression.Snappy)]
    public void The_parquet_holds_the_engines_items_exactly_with_the_declared_columns_in_row_groups_of_at_most_the_limit(
        int parallelWriters, CuratedCompression compression)
    {
        var (_, items) = Transform(orders: 1_500);
        var options = new CuratedWriterOptions { RowGroupRows = 200, MaxBufferedRows = 1_500, Compression = compression };
        var days = WriteParquet(items, options, parallelWriters);

        Assert.Equal(items.GroupBy(i => i.OrderDate).OrderBy(g => g.Key).Select(g => new CuratedDayFile(g.Key, g.Count())), days);
        using var duckDb = new DuckDBConnection("DataSource=:memory:");
        duckDb.Open();
        string all = Path.Combine(_folder, "order_date=*", "part.parquet");

        var declared = PipelineTopology.CuratedOrderItems.Columns.Select(c => (c.Name, DuckDbType(c.Type)));
        string firstDay = Path.Combine(_folder, $"order_date={days[0].Day:yyyy-MM-dd}", "part.parquet");
        Assert.Equal(declared,
            duckDb.Query($"DESCRIBE SELECT * FROM read_parquet('{firstDay}', hive_partitioning = false)", r => (r.GetString(0), r.GetString(1))));
        Assert.Equal(Row(items), duckDb.Query($"""
            SELECT item_id, order_id, user_id, product_id, category, status, sale_price::VARCHAR, epoch_us(created_at), epoch_us(shipped_at),
                   epoch_us(delivered_at), epoch_us(returned_at), order_date::VARCHAR
            FROM read_parquet('{all}', hive_partitioning = true) ORDER BY item_id
            """, r => Enumerable.Range(0, r.FieldCount).Select(c => r.IsDBNull(c) ? "null" : Convert.ToString(r.GetValue(c), CultureInfo.InvariantCulture))
                .ToArray()));
        Assert.Equal(
            items.GroupBy(i => i.OrderDate).OrderBy(g => g.Key)
                .Select(g => (g.Key.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), g.Sum(i => i.SalePrice))),
            duckDb.Query($"SELECT order_date::VARCHAR, sum(sale_price)::VARCHAR FROM read_parquet('{all}', hive_partitioning = true) GROUP BY 1 ORDER BY 1",
                r => (r.GetString(0), decimal.Parse(r.GetString(1), CultureInfo.InvariantCulture))));
        var rowGroups = duckDb.Query($"SELECT DISTINCT file_name, row_group_id, row_group_num_rows FROM parquet_metadata('{all}')", r => r.GetInt64(2));
        Assert.All(rowGroups, rows => Assert.InRange(rows, 1, options.RowGroupRows));
        Assert.Contains(rowGroups, rows => rows == options.RowGroupRows);
        Assert.Equal(items.Count, rowGroups.Sum());
        Assert.Equal([compression.ToString().ToUpperInvariant()],
            duckDb.Query($"SELECT DISTINCT compression FROM parquet_metadata('{all}')", r => r.GetString(0)));
        var timeColumns = duckDb.Query($"SELECT DISTINCT name, logical_type FROM parquet_schema('{all}') WHERE name LIKE '%_at'", r => r.GetString(1));
        Assert.Equal(4, timeColumns.Count);
        Assert.All(timeColumns, type => Assert.Matches("isAdjustedToUTC=(1|true).*MICROS", type));
    }

    [Fact]
    public void Row_groups_gathered_from_several_buffered_chunks_hold_every_item_in_the_order_written()
    {
        var created = new DateTime(2025, 3, 8, 10, 0, 0, DateTimeKind.Utc);
        var items = Enumerable.Range(1, 4_600) // two days, interleaved: 2,300 items each, row groups of 1,000 and what is left
            .Select(i => Item(i, new ItemTimes(created.AddDays(i % 2), null, null, null), i + 0.25m)).ToList();
        var days = WriteParquet(items, new CuratedWriterOptions { RowGroupRows = 1_000, MaxBufferedRows = 10_000 });

        Assert.Equal([2_300, 2_300], days.Select(d => d.Rows));
        using var duckDb = new DuckDBConnection("DataSource=:memory:");
        duckDb.Open();
        string all = Path.Combine(_folder, "order_date=*", "part.parquet");
        Assert.Equal(
            items.OrderBy(i => i.OrderDate).Select(i => (i.ItemId, i.SalePrice)),
            duckDb.Query($"SELECT item_id, sale_price::VARCHAR FROM read_parquet('{all}', file_row_number = true) ORDER BY filename, file_row_number",
                r => (r.GetInt64(0), decimal.Parse(r.GetString(1), CultureInfo.InvariantCulture))));
        Assert.Equal([1_000, 1_000, 300, 1_000, 1_000, 300],
            duckDb.Query($"SELECT DISTINCT file_name, row_group_id, row_group_num_rows FROM parquet_metadata('{all}') ORDER BY 1, 2", r => r.GetInt64(2)));
    }

    [Fact]
    public void A_days_buffer_grows_with_its_items_and_its_chunks_are_taken_again_once_given_back()
    {
        var created = new DateTime(2025, 3, 8, 10, 0, 0, DateTimeKind.Utc);
        var spares = new CuratedRowBuffer.Spares();
        var buffer = new CuratedRowBuffer();

        buffer.Add(Item(1, new ItemTimes(created, null, null, null), 1m), spares);
        Assert.Equal(16, Assert.Single(buffer.Chunks()).Array!.Length); // a day of one item holds room for 16, not 512
        for (int i = 2; i <= 1_000; i++)
        {
            buffer.Add(Item(i, new ItemTimes(created, null, null, null), 1m), spares);
        }
        Assert.Equal([16, 32, 64, 128, 256, 512], buffer.Chunks().Select(c => c.Array!.Length));
        Assert.Equal(Enumerable.Range(1, 1_000).Select(i => (long)i), buffer.Chunks().SelectMany(c => c).Select(i => i.ItemId));

        var chunks = buffer.Chunks().Select(c => c.Array!).ToList();
        buffer.Clear(spares);
        Assert.Equal(0, buffer.Count);
        Assert.Empty(buffer.Chunks());
        var next = new CuratedRowBuffer();
        for (int i = 1; i <= 1_000; i++)
        {
            next.Add(Item(i, new ItemTimes(created, null, null, null), 1m), spares);
        }
        Assert.All(chunks.Zip(next.Chunks().Select(c => c.Array!)), pair => Assert.Same(pair.First, pair.Second));
    }

    [Fact]
    public void A_year_of_days_in_one_batch_holds_no_more_rows_than_the_limit()
    {
        var start = new DateTime(2025, 1, 1, 12, 0, 0, DateTimeKind.Utc);
        var options = new CuratedWriterOptions { RowGroupRows = 1_000, MaxBufferedRows = 100 };
        var opened = new List<DateOnly>();
        var streams = new List<Stream>();
        using var writer = new CuratedOrderItemsWriter(day =>
        {
            opened.Add(day);
            streams.Add(new MemoryStream());
            return streams[^1];
        }, options);
        int maxBuffered = 0;
        for (int i = 0; i < 365 * 20; i++)
        {
            writer.Write(Item(i + 1, new ItemTimes(start.AddDays(i % 365), null, null, null), 1.25m));
            maxBuffered = Math.Max(maxBuffered, writer.BufferedRows);
        }
        var files = writer.Complete();

        Assert.InRange(maxBuffered, 1, options.MaxBufferedRows);
        Assert.Equal(0, writer.BufferedRows);
        Assert.Equal(365, files.Count);
        Assert.All(files, file => Assert.Equal(20, file.Rows));
        Assert.Equal(opened.Order(), opened.Distinct().Order()); // each day opened once
        Assert.Equal(365, opened.Count);
        Assert.All(streams, stream => Assert.True(stream.CanWrite)); // the caller's to dispose
        streams.ForEach(s => s.Dispose());
    }

    [Fact]
    public void A_price_decimal_38_18_cannot_hold_exactly_is_refused_naming_the_item_and_one_it_can_is_kept_exactly()
    {
        var created = new DateTime(2025, 3, 8, 10, 0, 0, DateTimeKind.Utc);
        using (var writer = new CuratedOrderItemsWriter(_ => throw new InvalidOperationException("nothing is written")))
        {
            var nineteenDecimals = Item(42, new ItemTimes(created, null, null, null), 1.0000000000000000001m);
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(nineteenDecimals));
            Assert.Contains("item 42", error.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(Item(43, new ItemTimes(created, null, null, null), 100_000_000_000_000_000_000m)));
            Assert.Equal(0, writer.BufferedRows);
        }

        decimal[] exact = [0.123456789012345678m, 1.500000000000000000000m, 99_999_999_999_999_999_999.999999m, 0m];
        var items = exact.Select((price, i) => Item(i + 1, new ItemTimes(created, null, null, null), price)).ToList();
        WriteParquet(items, new CuratedWriterOptions());
        using var duckDb = new DuckDBConnection("DataSource=:memory:");
        duckDb.Open();
        var read = duckDb.Query($"SELECT sale_price::VARCHAR FROM read_parquet('{Path.Combine(_folder, "order_date=*", "part.parquet")}') ORDER BY item_id",
            r => decimal.Parse(r.GetString(0), CultureInfo.InvariantCulture));
        Assert.Equal(exact, read);
    }

    private static string DuckDbType(string athenaType) => athenaType switch
    {
        "bigint" => "BIGINT",
        "string" => "VARCHAR",
        "timestamp" => "TIMESTAMP WITH TIME ZONE", // UTC-adjusted: an instant
        _ => athenaType.ToUpperInvariant(),
    };

    private static IEnumerable<string[]> Row(IEnumerable<EnrichedOrderItem> items) =>
        items.OrderBy(i => i.ItemId).Select(i => new[]
        {
            I(i.ItemId), I(i.OrderId), I(i.UserId), I(i.ProductId), i.Category.Name, OrderStatusText.Of(i.Status),
            i.SalePrice.ToString("0.000000000000000000", CultureInfo.InvariantCulture),
            Micros(i.Times.CreatedAt), Micros(i.Times.ShippedAt), Micros(i.Times.DeliveredAt), Micros(i.Times.ReturnedAt),
            i.OrderDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        });

    private static string I(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Micros(DateTime? time) => time is { } t ? I((t - DateTime.UnixEpoch).Ticks / 10) : "null";

    private static DateTime? Utc(string text) =>
        text.Length == 0
            ? null
            : DateTime.ParseExact(text, "yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    private static EnrichedOrderItem Item(long id, ItemTimes times, decimal price) =>
        new(id, id, 10, 20, new ProductCategory(0, "Books"), OrderStatus.Delivered, times, price);

    /// <summary>An item with its category by name: the reader indexes categories anew.</summary>
    private static object Comparable(EnrichedOrderItem item) => item with { Category = new ProductCategory(0, item.Category.Name) };

    [Fact]
    public void A_parallel_writers_error_is_thrown_to_the_caller_naming_the_item_and_nothing_hangs()
    {
        var created = new DateTime(2025, 3, 8, 10, 0, 0, DateTimeKind.Utc);
        var streams = new System.Collections.Concurrent.ConcurrentQueue<Stream>();
        var writer = new ParallelCuratedWriter(_ =>
        {
            var stream = new MemoryStream();
            streams.Enqueue(stream);
            return stream;
        }, writers: 2, new CuratedWriterOptions { RowGroupRows = 100 });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            for (int i = 1; i <= 200_000; i++) // far more than the chunks on their way: the caller must meet the error
            {
                writer.Write(Item(i, new ItemTimes(created.AddDays(i % 4), null, null, null), i == 5_000 ? 1.0000000000000000001m : 2.5m));
            }
            writer.Complete();
        });
        Assert.Contains("item 5000", error.Message, StringComparison.Ordinal);
        writer.Dispose();
        foreach (var stream in streams)
        {
            stream.Dispose();
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0.000000000000000001")]
    [InlineData("-12.5")]
    [InlineData("1.500000000000000000000")]
    [InlineData("99999999999999999999.999999999999999999")]
    [InlineData("-99999999999999999999.999999999999999999")]
    [InlineData("0.0199999995529651")] // as the seed's prices are written
    public void A_price_is_stored_as_its_digits_with_eighteen_decimals(string text)
    {
        decimal price = decimal.Parse(text, CultureInfo.InvariantCulture);
        // The decimal's own digits, read without decimal arithmetic: the integer part, then the decimals to eighteen places.
        string[] parts = price.ToString(CultureInfo.InvariantCulture).Split('.');
        string decimals = (parts.Length > 1 ? parts[1] : "").PadRight(CuratedColumns.PriceScale, '0');
        Assert.Matches("^0*$", decimals[CuratedColumns.PriceScale..]);
        var expected = BigInteger.Parse(parts[0] + decimals[..CuratedColumns.PriceScale], CultureInfo.InvariantCulture);
        Assert.Equal(expected, (BigInteger)CuratedColumns.Unscaled(price));
    }

    /// <summary>
    /// Writes <paramref name="items"/> into the folder's day files, and checks that each day the writer says is finished is
    /// a whole Parquet file then, with all of its day's rows, and that every day written is told once.
    /// </summary>
    private IReadOnlyList<CuratedDayFile> WriteParquet(IEnumerable<EnrichedOrderItem> items, CuratedWriterOptions options, int parallelWriters = 0)
    {
        string PathOf(DateOnly day) => Path.Combine(_folder, $"order_date={day:yyyy-MM-dd}", "part.parquet");
        using var files = new CuratedDayStreams(PathOf);
        var finished = new System.Collections.Concurrent.ConcurrentBag<(CuratedDayFile Told, long RowsInFile)>();
        void DayFinished(CuratedDayFile day)
        {
            files.Close(day.Day);
            using var reader = new ParquetSharp.ParquetFileReader(PathOf(day.Day));
            finished.Add((day, reader.FileMetaData.NumRows));
        }

        IReadOnlyList<CuratedDayFile> days;
        if (parallelWriters > 0)
        {
            using var writer = new ParallelCuratedWriter(files.Open, parallelWriters, options, DayFinished);
            days = WriteAll(writer, items, writer.Complete);
        }
        else
        {
            using var writer = new CuratedOrderItemsWriter(files.Open, options, DayFinished);
            days = WriteAll(writer, items, writer.Complete);
        }
        Assert.Equal(days, finished.Select(f => f.Told).OrderBy(d => d.Day));
        Assert.All(finished, f => Assert.Equal(f.Told.Rows, f.RowsInFile));
        return days;
    }

    private static IReadOnlyList<CuratedDayFile> WriteAll(
        IEnrichedRecordWriter writer, IEnumerable<EnrichedOrderItem> items, Func<IReadOnlyList<CuratedDayFile>> complete)
    {
        foreach (var item in items)
        {
            writer.Write(item);
        }
        return complete();
    }

    /// <summary>A generated batch (one part per table) through the engine: its folder and the items it accepted.</summary>
    private (string Batch, List<EnrichedOrderItem> Items) Transform(long orders)
    {
        string batch = Path.Combine(_folder, "batch");
        Generation.SyntheticBatchGenerator.Generate(batch, new Generation.GeneratorOptions(orders, 1, 7, Days: 10, Products: 500));
        var output = new Collected();
        var result = new BatchProcessor().Process(LocalBatchFolder.Open(batch), output: output);
        Assert.True(result.Accepted);
        Assert.Equal(result.Report.RowsOf(TableKind.OrderItems), output.Items.Count);
        return (batch, output.Items);
    }

    private sealed class Collected : IEnrichedOutput
    {
        private readonly RecordList _records = new();

        public List<EnrichedOrderItem> Items => _records.Items;

        public IEnrichedRecordWriter OpenPart(BatchPart part) => _records; // one part per table: one thread at a time
    }

    private sealed class RecordList : IEnrichedRecordWriter
    {
        public List<OrderFact> Orders { get; } = [];

        public List<EnrichedOrderItem> Items { get; } = [];

        public void Write(in OrderFact order) => Orders.Add(order);

        public void Write(in EnrichedOrderItem item) => Items.Add(item);

        public void Dispose()
        {
        }
    }
}
