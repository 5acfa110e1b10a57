using ParquetSharp;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Curated;

/// <summary>How <see cref="CuratedOrderItemsWriter"/> groups rows, and how many it may hold.</summary>
public sealed record CuratedWriterOptions
{
    /// <summary>The rows of a full row group: large enough for scanning, small enough to buffer.</summary>
    public int RowGroupRows { get; init; } = 256 * 1024;

    /// <summary>
    /// The most rows buffered over all days together; at this many the largest day is written as a (smaller) row group,
    /// so the memory held does not grow with the number of days.
    /// </summary>
    public int MaxBufferedRows { get; init; } = 512 * 1024;

    /// <summary>The column codec; both are read by Athena.</summary>
    public CuratedCompression Compression { get; init; } = CuratedCompression.Zstd;
}

public enum CuratedCompression { Zstd, Snappy }

/// <summary>One day's Parquet file: its partition day and the rows written to it.</summary>
public readonly record struct CuratedDayFile(DateOnly Day, long Rows);

/// <summary>
/// Writes enriched order items as the analysts' Parquet, one file per order date (the partition day, which is in the
/// path, not in the file): the columns of the curated order_items table in its order, money as DECIMAL(38,18), times as
/// UTC-adjusted TIMESTAMP(MICROS), statuses as the CSV spells them, compressed (Zstd unless told otherwise). Orders are
/// ignored. Rows are buffered per day and written a row group at a time, to the stream <c>openDay</c> gives the first
/// time a day has rows to write; the streams stay the caller's. <see cref="Complete"/> tells <c>dayFinished</c> of each
/// day as soon as its file is whole (its stream holds all of it once flushed), so the caller may send it on while the
/// other days are finished. A price that DECIMAL(38,18) cannot hold exactly (more than 18 decimals that are not zeros,
/// or 20 digits or more before the point) is refused with an exception that names the item, never rounded. Used by one
/// thread. Written with ParquetSharp (Arrow's C++ Parquet writer): the benchmark's parquet command measured it against
/// Parquet.Net (docs/engine-performance.md).
/// </summary>
public sealed class CuratedOrderItemsWriter : IEnrichedRecordWriter
{
    private readonly Func<DateOnly, Stream> _openDay;
    private readonly Action<CuratedDayFile>? _dayFinished;
    private readonly CuratedWriterOptions _options;
    private readonly CuratedColumns _columns;
    private readonly Dictionary<DateOnly, DayFile> _days = [];
    private readonly CuratedRowBuffer.Spares _spareChunks = new();
    private bool _completed;
    private bool _disposed;

    public CuratedOrderItemsWriter(Func<DateOnly, Stream> openDay, CuratedWriterOptions? options = null, Action<CuratedDayFile>? dayFinished = null)
    {
        _openDay = openDay;
        _dayFinished = dayFinished;
        _options = options ?? new CuratedWriterOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.RowGroupRows, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBufferedRows, 1, nameof(options));
        _columns = new CuratedColumns(_options.Compression);
    }

    /// <summary>The rows held in memory, not yet written as a row group.</summary>
    public int BufferedRows { get; private set; }

    public void Write(in OrderFact order)
    {
    }

    /// <exception cref="ArgumentOutOfRangeException">The item's sale price does not fit DECIMAL(38,18) exactly.</exception>
    public void Write(in EnrichedOrderItem item)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        CuratedColumns.CheckPrice(item);
        DateOnly date = item.OrderDate;
        if (!_days.TryGetValue(date, out DayFile? day))
        {
            day = new DayFile(date);
            _days.Add(date, day);
        }

        day.Buffer.Add(item, _spareChunks);
        BufferedRows++;
        if (day.Buffer.Count >= _options.RowGroupRows)
        {
            WriteRowGroup(day);
        }
        else if (BufferedRows >= _options.MaxBufferedRows)
        {
            WriteRowGroup(_days.Values.MaxBy(d => d.Buffer.Count)!);
        }
    }

    /// <summary>Writes every day's remaining rows and finishes each file; the streams stay open (the caller's).</summary>
    public IReadOnlyList<CuratedDayFile> Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        var files = new List<CuratedDayFile>(_days.Count);
        foreach (DayFile day in _days.Values.OrderBy(d => d.Day))
        {
            if (day.Buffer.Count > 0)
            {
                WriteRowGroup(day);
            }
            day.Writer!.Close(); // the footer: the file is whole
            day.Writer.Dispose();
            day.Writer = null;
            var file = new CuratedDayFile(day.Day, day.Rows);
            files.Add(file);
            _dayFinished?.Invoke(file);
        }
        _completed = true;
        return files;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = _completed = true;
        foreach (DayFile day in _days.Values)
        {
            day.Writer?.Dispose(); // a file not finished: whoever opened it deletes it
        }
        _days.Clear();
        _columns.Dispose();
    }

    private void WriteRowGroup(DayFile day)
    {
        day.Writer ??= new ParquetFileWriter(_openDay(day.Day), _columns.Schema, _columns.Properties, keyValueMetadata: null, leaveOpen: true);
        _columns.WriteRowGroup(day.Writer, day.Buffer);
        day.Rows += day.Buffer.Count;
        BufferedRows -= day.Buffer.Count;
        day.Buffer.Clear(_spareChunks);
    }

    private sealed class DayFile(DateOnly day)
    {
        public DateOnly Day { get; } = day;

        public CuratedRowBuffer Buffer { get; } = new();

        public ParquetFileWriter? Writer { get; set; }

        public long Rows { get; set; }
    }
}
