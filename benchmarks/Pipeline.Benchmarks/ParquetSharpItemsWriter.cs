using ParquetSharp;
using ParquetSharp.IO;
using Pipeline.Engine.Curated;
using Pipeline.Engine.Transform;

namespace Pipeline.Benchmarks;

/// <summary>
/// The contender to the product's <see cref="CuratedOrderItemsWriter"/> (Parquet.Net): the same columns, types, codec
/// and buffering (per day in <see cref="CuratedRowBuffer"/>'s reused chunks, a row group at RowGroupRows, the largest day
/// written at MaxBufferedRows, each column gathered into an array kept between row groups), with ParquetSharp.
/// </summary>
internal sealed class ParquetSharpItemsWriter(Func<DateOnly, Stream> openDay, CuratedWriterOptions options) : IEnrichedRecordWriter
{
    private readonly Dictionary<DateOnly, DayFile> _days = [];
    private readonly CuratedRowBuffer.Spares _spareChunks = new();
    private readonly Dictionary<Type, Array> _columnArrays = [];
    private int _buffered;

    private static Column[] Columns() =>
    [
        new Column<long>("order_id"),
        new Column<long>("item_id"),
        new Column<long>("user_id"),
        new Column<long>("product_id"),
        new Column<string>("category"),
        new Column<string>("status"),
        new Column<decimal>("sale_price", LogicalType.Decimal(38, 18)),
        new Column<DateTime>("created_at", LogicalType.Timestamp(isAdjustedToUtc: true, TimeUnit.Micros)),
        new Column<DateTime?>("shipped_at", LogicalType.Timestamp(isAdjustedToUtc: true, TimeUnit.Micros)),
        new Column<DateTime?>("delivered_at", LogicalType.Timestamp(isAdjustedToUtc: true, TimeUnit.Micros)),
        new Column<DateTime?>("returned_at", LogicalType.Timestamp(isAdjustedToUtc: true, TimeUnit.Micros)),
    ];

    public void Write(in OrderFact order)
    {
    }

    public void Write(in EnrichedOrderItem item)
    {
        if (!_days.TryGetValue(item.OrderDate, out DayFile? day))
        {
            day = new DayFile(item.OrderDate);
            _days.Add(item.OrderDate, day);
        }
        day.Buffer.Add(item, _spareChunks);
        _buffered++;
        if (day.Buffer.Count >= options.RowGroupRows)
        {
            WriteRowGroup(day);
        }
        else if (_buffered >= options.MaxBufferedRows)
        {
            WriteRowGroup(_days.Values.MaxBy(d => d.Buffer.Count)!);
        }
    }

    public IReadOnlyList<CuratedDayFile> Complete()
    {
        var files = new List<CuratedDayFile>();
        foreach (DayFile day in _days.Values.OrderBy(d => d.Day))
        {
            if (day.Buffer.Count > 0)
            {
                WriteRowGroup(day);
            }
            day.Writer!.Close();
            day.Writer.Dispose();
            day.Output!.Dispose();
            files.Add(new CuratedDayFile(day.Day, day.Rows));
        }
        return files;
    }

    private void WriteRowGroup(DayFile day)
    {
        if (day.Writer is null)
        {
            day.Output = new ManagedOutputStream(openDay(day.Day), leaveOpen: true);
            using var builder = new WriterPropertiesBuilder();
            // Zstd at level 3, its own default (Arrow's is 1), as the product's writer uses it.
            using WriterProperties properties = (options.Compression == CuratedCompression.Snappy
                ? builder.Compression(Compression.Snappy)
                : builder.Compression(Compression.Zstd).CompressionLevel(3)).Build();
            day.Writer = new ParquetFileWriter(day.Output, Columns(), properties);
        }

        CuratedRowBuffer rows = day.Buffer;
        using (RowGroupWriter group = day.Writer.AppendRowGroup())
        {
            Column(group, rows, static (in EnrichedOrderItem i) => i.OrderId);
            Column(group, rows, static (in EnrichedOrderItem i) => i.ItemId);
            Column(group, rows, static (in EnrichedOrderItem i) => i.UserId);
            Column(group, rows, static (in EnrichedOrderItem i) => i.ProductId);
            Column(group, rows, static (in EnrichedOrderItem i) => i.Category.Name);
            Column(group, rows, static (in EnrichedOrderItem i) => OrderStatusText.Of(i.Status));
            Column(group, rows, static (in EnrichedOrderItem i) => i.SalePrice);
            Column(group, rows, static (in EnrichedOrderItem i) => i.Times.CreatedAt);
            Column(group, rows, static (in EnrichedOrderItem i) => i.Times.ShippedAt);
            Column(group, rows, static (in EnrichedOrderItem i) => i.Times.DeliveredAt);
            Column(group, rows, static (in EnrichedOrderItem i) => i.Times.ReturnedAt);
        }
        day.Rows += rows.Count;
        _buffered -= rows.Count;
        rows.Clear(_spareChunks);
    }

    private delegate T Value<T>(in EnrichedOrderItem item);

    /// <summary>Writes one column of <paramref name="rows"/>, gathered into an array of its type kept between row groups.</summary>
    private void Column<T>(RowGroupWriter group, CuratedRowBuffer rows, Value<T> value)
    {
        if (!_columnArrays.TryGetValue(typeof(T), out Array? kept) || kept.Length < rows.Count)
        {
            _columnArrays[typeof(T)] = kept = new T[rows.Count];
        }
        var values = (T[])kept;
        int row = 0;
        foreach (var chunk in rows.Chunks())
        {
            foreach (ref readonly EnrichedOrderItem item in chunk.AsSpan())
            {
                values[row++] = value(item);
            }
        }
        using LogicalColumnWriter<T> writer = group.NextColumn().LogicalWriter<T>();
        writer.WriteBatch(values.AsSpan(0, row));
    }

    public void Dispose()
    {
        foreach (DayFile day in _days.Values)
        {
            day.Writer?.Dispose();
            day.Output?.Dispose();
        }
    }

    private sealed class DayFile(DateOnly day)
    {
        public DateOnly Day { get; } = day;

        public CuratedRowBuffer Buffer { get; } = new();

        public ManagedOutputStream? Output { get; set; }

        public ParquetFileWriter? Writer { get; set; }

        public long Rows { get; set; }
    }
}
