using System.IO.Compression;
using System.Text;
using Pipeline.Engine.Kpis;

namespace Pipeline.Engine.Transform;

/// <summary>
/// The compact form of transformed data: validated orders and category-enriched items as gzip-compressed binary
/// records (7-bit varints, dates as day numbers, prices as unscaled integer and scale, categories named once; an item's
/// created_at as its day and the second of that day, its optional times as a presence flag each and seconds from
/// created_at, and the times' microseconds only where one has any: the CSV's times are whole seconds).
/// About a fifth of the CSV's size (the items' times are most of it); read back without parsing text. A file ends with its record counts, so a
/// truncated file is an error, never a silent shortfall.
/// <para>
/// A combined file (<see cref="Concatenate"/>) holds several such files, each written by its own writer (the engine
/// writes parts in parallel), as one: a header, the files one after another (each a gzip member of its own: gzip
/// decompresses concatenated members as one stream), and a trailer with their number and total counts, so a file cut
/// between two of them is an error too.
/// </para>
/// </summary>
public static class EnrichedFile
{
    private static readonly byte[] Magic = "PEN3"u8.ToArray();
    private static readonly byte[] CombinedMagic = "PEN4"u8.ToArray();
    private static readonly byte[] TrailerMagic = "PENT"u8.ToArray();

    private const byte CategoryTag = (byte)'C';
    private const byte OrderTag = (byte)'O';
    private const byte ItemTag = (byte)'I';
    private const byte EndTag = (byte)'E';

    private const int BufferSize = 1 << 16;

    private const long TicksPerMicrosecond = TimeSpan.TicksPerMicrosecond;
    private const long MicrosecondsPerSecond = TimeSpan.MicrosecondsPerSecond;
    private const long SecondsPerDay = TimeSpan.SecondsPerDay;

    // An item's time flags: which optional times follow its created_at, and whether their microseconds follow them.
    private const byte HasShippedAt = 1, HasDeliveredAt = 2, HasReturnedAt = 4, HasFractions = 8;

    /// <summary>Writes records to a stream; one writer per file, used by one thread. Dispose (or <see cref="Complete"/>) to finish the file.</summary>
    public sealed class Writer : IEnrichedRecordWriter
    {
        /// <summary>The most a record takes but a category's name: an item's fifteen varints of up to 10 bytes and four bytes.</summary>
        private const int MaxRecordBytes = (15 * 10) + 4;

        private readonly GZipStream _out;
        private readonly Dictionary<string, int> _categories = new(StringComparer.Ordinal);

        // Records are encoded into a buffer handed to gzip in large writes: each write to a GZipStream is a deflate call.
        private readonly byte[] _buffer = new byte[BufferSize];
        private int _used;
        private long _orders;
        private long _items;
        private bool _completed;

        /// <summary>The records written so far.</summary>
        public Counts Written => new(_orders, _items);

        public Writer(Stream output, bool leaveOpen = false)
        {
            _out = new GZipStream(output, CompressionLevel.Fastest, leaveOpen);
            Magic.CopyTo(_buffer, 0);
            _used = Magic.Length;
        }

        public void Write(in OrderFact order)
        {
            Reserve(MaxRecordBytes);
            Byte(OrderTag);
            Varint((ulong)order.OrderId);
            Varint((ulong)order.UserId);
            Byte((byte)order.Status);
            Varint((uint)order.OrderDate.DayNumber);
            Varint((uint)order.NumOfItem);
            _orders++;
        }

        public void Write(in EnrichedOrderItem item)
        {
            if (!_categories.TryGetValue(item.Category.Name, out int category))
            {
                category = _categories.Count;
                _categories.Add(item.Category.Name, category);
                WriteCategory(category, item.Category.Name);
            }

            Span<int> price = stackalloc int[4];
            decimal.GetBits(item.SalePrice, price);
            if (price[2] != 0 || price[1] < 0 || item.SalePrice < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(item), item.SalePrice, "a sale price must be positive and its unscaled value fit in 63 bits");
            }
            Reserve(MaxRecordBytes);
            Byte(ItemTag);
            Varint((ulong)item.ItemId);
            Varint((ulong)item.OrderId);
            Varint((ulong)item.UserId);
            Varint((ulong)item.ProductId);
            Varint((uint)category);
            Byte((byte)item.Status);
            WriteTimes(item);
            Varint((uint)price[0] | ((ulong)(uint)price[1] << 32)); // the unscaled value: 29.99 is 2999 with scale 2
            Byte(item.SalePrice.Scale);
            _items++;
        }

        /// <summary>An item's times: see the class's summary. Absent optional times are -1 microseconds.</summary>
        private void WriteTimes(in EnrichedOrderItem item)
        {
            ItemTimes times = item.Times;
            long created = Microseconds(times.CreatedAt, item);
            long shipped = Microseconds(times.ShippedAt, item), delivered = Microseconds(times.DeliveredAt, item);
            long returned = Microseconds(times.ReturnedAt, item);
            bool fractions = created % MicrosecondsPerSecond != 0 || shipped % MicrosecondsPerSecond > 0 ||
                delivered % MicrosecondsPerSecond > 0 || returned % MicrosecondsPerSecond > 0;
            long createdSecond = created / MicrosecondsPerSecond;
            Varint((ulong)(createdSecond / SecondsPerDay)); // the day number: the order date
            Varint((ulong)(createdSecond % SecondsPerDay));
            Byte((byte)((shipped < 0 ? 0 : HasShippedAt) | (delivered < 0 ? 0 : HasDeliveredAt) | (returned < 0 ? 0 : HasReturnedAt) |
                (fractions ? HasFractions : 0)));
            SecondsFrom(createdSecond, shipped);
            SecondsFrom(createdSecond, delivered);
            SecondsFrom(createdSecond, returned);
            if (fractions)
            {
                Varint((ulong)(created % MicrosecondsPerSecond));
                Fraction(shipped);
                Fraction(delivered);
                Fraction(returned);
            }
        }

        /// <summary>A present optional time's whole seconds from created_at's, zigzag-encoded (it may come before it).</summary>
        private void SecondsFrom(long createdSecond, long time)
        {
            if (time >= 0)
            {
                long delta = (time / MicrosecondsPerSecond) - createdSecond;
                Varint((ulong)((delta << 1) ^ (delta >> 63)));
            }
        }

        private void Fraction(long time)
        {
            if (time >= 0)
            {
                Varint((ulong)(time % MicrosecondsPerSecond));
            }
        }

        private static long Microseconds(DateTime? time, in EnrichedOrderItem item) => time is { } value ? Microseconds(value, item) : -1;

        /// <summary>A UTC time as microseconds since 0001-01-01; the file holds times exactly, to the microsecond.</summary>
        private static long Microseconds(DateTime time, in EnrichedOrderItem item) =>
            time.Kind == DateTimeKind.Utc && time.Ticks % TicksPerMicrosecond == 0
                ? time.Ticks / TicksPerMicrosecond
                : throw new ArgumentOutOfRangeException(nameof(item), time,
                    $"item {item.ItemId}: a time must be UTC and whole microseconds (the CSV's are whole seconds)");

        /// <summary>Writes the end record (the counts) and flushes the compressed stream.</summary>
        public void Complete()
        {
            if (_completed)
            {
                return;
            }
            _completed = true;
            Reserve(MaxRecordBytes);
            Byte(EndTag);
            Varint((ulong)_orders);
            Varint((ulong)_items);
            Flush();
            _out.Dispose();
        }

        /// <summary>A category record: its index and its name as VarintReader.ReadString reads it (UTF-8, length first).</summary>
        private void WriteCategory(int category, string name)
        {
            var bytes = Encoding.UTF8.GetBytes(name);
            Reserve(MaxRecordBytes);
            Byte(CategoryTag);
            Varint((uint)category);
            Varint((uint)bytes.Length);
            Flush();
            _out.Write(bytes);
        }

        private void Reserve(int bytes)
        {
            if (_used + bytes > _buffer.Length)
            {
                Flush();
            }
        }

        private void Flush()
        {
            _out.Write(_buffer, 0, _used);
            _used = 0;
        }

        private void Byte(byte value) => _buffer[_used++] = value;

        /// <summary>The 7-bit encoding of BinaryWriter.Write7BitEncodedInt64 (and of Write7BitEncodedInt, for a uint).</summary>
        private void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _buffer[_used++] = (byte)(value | 0x80);
                value >>= 7;
            }
            _buffer[_used++] = (byte)value;
        }

        public void Dispose() => Complete();
    }

    /// <summary>What one file held.</summary>
    public readonly record struct Counts(long Orders, long Items);

    /// <summary>
    /// Writes one combined file of <paramref name="files"/> (each a complete file written by a <see cref="Writer"/>,
    /// with the counts it wrote) to <paramref name="output"/>; its trailer holds the total counts.
    /// </summary>
    public static void Concatenate(Stream output, IReadOnlyList<(string Path, Counts Counts)> files)
    {
        WriteMember(output, writer => writer.Write(CombinedMagic));
        foreach (var file in files)
        {
            using var input = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize);
            input.CopyTo(output);
        }
        var total = new Counts(files.Sum(f => f.Counts.Orders), files.Sum(f => f.Counts.Items));
        WriteMember(output, writer =>
        {
            writer.Write(TrailerMagic);
            writer.Write7BitEncodedInt(files.Count);
            writer.Write7BitEncodedInt64(total.Orders);
            writer.Write7BitEncodedInt64(total.Items);
        });
    }

    private static void WriteMember(Stream output, Action<BinaryWriter> write)
    {
        using var writer = new BinaryWriter(new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true), Encoding.UTF8);
        write(writer);
    }

    /// <summary>The KPI partial of one enriched file (plain or combined), with a category index of its own.</summary>
    /// <exception cref="InvalidDataException">The stream is not an enriched file, or it is truncated or corrupt.</exception>
    public static KpiPartial ReadPartial(Stream input)
    {
        var categories = new CategoryIndex();
        var kpis = new KpiAccumulator(categories);
        ReadInto(input, kpis, categories);
        return kpis.ToPartial();
    }

    /// <summary>
    /// Reads a file written by <see cref="Writer"/>, or a combined one (<see cref="Concatenate"/>), into
    /// <paramref name="kpis"/> (categories are mapped into its index).
    /// </summary>
    /// <exception cref="InvalidDataException">The stream is not an enriched file, or it is truncated or corrupt.</exception>
    public static Counts ReadInto(Stream input, KpiAccumulator kpis, CategoryIndex categories) => Read(input, new KpiSink(kpis), categories);

    /// <summary>
    /// Hands every order and item of a file written by <see cref="Writer"/>, or a combined one (<see cref="Concatenate"/>),
    /// to <paramref name="sink"/>, in the file's order (categories indexed in the order they first appear). The sink
    /// is not disposed; it has seen every record only when this returns: a truncated file throws after handing it some.
    /// </summary>
    /// <exception cref="InvalidDataException">The stream is not an enriched file, or it is truncated or corrupt.</exception>
    public static Counts ReadRecords(Stream input, IEnrichedRecordWriter sink) => Read(input, sink, new CategoryIndex());

    private static Counts Read(Stream input, IEnrichedRecordWriter sink, CategoryIndex categories)
    {
        using var inflated = new GZipStream(input, CompressionMode.Decompress, leaveOpen: true);
        var reader = new VarintReader(inflated, BufferSize);
        try
        {
            var magic = reader.ReadBytes(Magic.Length);
            if (magic.AsSpan().SequenceEqual(Magic))
            {
                return ReadFile(reader, sink, categories);
            }
            if (!magic.AsSpan().SequenceEqual(CombinedMagic))
            {
                throw new InvalidDataException("not an enriched data file (bad header)");
            }

            int files = 0;
            long orders = 0, items = 0;
            while (true)
            {
                magic = reader.ReadBytes(Magic.Length);
                if (magic.AsSpan().SequenceEqual(Magic))
                {
                    var counts = ReadFile(reader, sink, categories);
                    (files, orders, items) = (files + 1, orders + counts.Orders, items + counts.Items);
                }
                else if (magic.AsSpan().SequenceEqual(TrailerMagic))
                {
                    int expectedFiles = reader.ReadVarint32();
                    var expected = new Counts(reader.ReadVarint64(), reader.ReadVarint64());
                    if (expectedFiles != files || expected != new Counts(orders, items))
                    {
                        throw new InvalidDataException(
                            $"the file says {expectedFiles} parts with {expected} but holds {files} parts with {orders} orders and {items} items");
                    }
                    return reader.AtEnd ? expected : throw new InvalidDataException("data after the end of the enriched data file");
                }
                else
                {
                    throw magic.Length < Magic.Length
                        ? new EndOfStreamException()
                        : new InvalidDataException("bad part header in a combined enriched data file");
                }
            }
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("the enriched data file is truncated (no end record)");
        }
    }

    /// <summary>Reads the records of one file, after its header, to its end record.</summary>
    private static Counts ReadFile(VarintReader reader, IEnrichedRecordWriter sink, CategoryIndex categories)
    {
        var local = new List<ProductCategory>();
        long orders = 0, items = 0;
        while (true)
        {
            switch (reader.ReadByte())
            {
                case CategoryTag:
                    int index = reader.ReadVarint32();
                    if (index != local.Count)
                    {
                        throw new InvalidDataException($"category {index} defined out of order");
                    }
                    local.Add(categories.GetOrAdd(reader.ReadString()));
                    break;
                case OrderTag:
                    sink.Write(new OrderFact(reader.ReadVarint64(), reader.ReadVarint64(), Status(reader.ReadByte()), Day(reader.ReadVarint32()),
                        reader.ReadVarint32()));
                    orders++;
                    break;
                case ItemTag:
                    long itemId = reader.ReadVarint64(), orderId = reader.ReadVarint64();
                    long userId = reader.ReadVarint64(), productId = reader.ReadVarint64();
                    int category = reader.ReadVarint32();
                    var status = Status(reader.ReadByte());
                    var times = ReadTimes(reader);
                    long unscaled = reader.ReadVarint64();
                    byte scale = reader.ReadByte();
                    if ((uint)category >= (uint)local.Count || scale > 28)
                    {
                        throw new InvalidDataException("item record refers to an unknown category or has a bad price scale");
                    }
                    sink.Write(new EnrichedOrderItem(itemId, orderId, userId, productId, local[category], status, times, Price(unscaled, scale)));
                    items++;
                    break;
                case EndTag:
                    var expected = new Counts(reader.ReadVarint64(), reader.ReadVarint64());
                    return expected == new Counts(orders, items)
                        ? expected
                        : throw new InvalidDataException($"the file says {expected} but holds {orders} orders and {items} items");
                case var tag:
                    throw new InvalidDataException($"unknown record tag {tag}");
            }
        }
    }

    /// <summary>An item's times as <see cref="Writer"/> encodes them.</summary>
    private static ItemTimes ReadTimes(VarintReader reader)
    {
        long day = Day(reader.ReadVarint32()).DayNumber;
        long secondOfDay = reader.ReadVarint64();
        byte flags = reader.ReadByte();
        if ((ulong)secondOfDay >= SecondsPerDay || flags > (HasShippedAt | HasDeliveredAt | HasReturnedAt | HasFractions))
        {
            throw new InvalidDataException("item record has a bad created_at or bad time flags");
        }
        long created = (day * SecondsPerDay) + secondOfDay;
        long? shipped = SecondsFrom(reader, created, flags, HasShippedAt);
        long? delivered = SecondsFrom(reader, created, flags, HasDeliveredAt);
        long? returned = SecondsFrom(reader, created, flags, HasReturnedAt);
        bool fractions = (flags & HasFractions) != 0;
        return new ItemTimes(Time(created, fractions ? reader : null)!.Value,
            Time(shipped, fractions ? reader : null), Time(delivered, fractions ? reader : null), Time(returned, fractions ? reader : null));
    }

    private static long? SecondsFrom(VarintReader reader, long createdSecond, byte flags, byte flag)
    {
        if ((flags & flag) == 0)
        {
            return null;
        }
        long zigzag = reader.ReadVarint64();
        return createdSecond + ((long)((ulong)zigzag >> 1) ^ -(zigzag & 1));
    }

    /// <summary>The UTC time of that whole second, with its microseconds read from <paramref name="fractions"/> if given.</summary>
    private static DateTime? Time(long? second, VarintReader? fractions)
    {
        if (second is not { } value)
        {
            return null;
        }
        long microsecond = fractions?.ReadVarint64() ?? 0;
        return (ulong)value <= (ulong)(DateTime.MaxValue.Ticks / TimeSpan.TicksPerSecond) && (ulong)microsecond < MicrosecondsPerSecond
            ? new DateTime((value * TimeSpan.TicksPerSecond) + (microsecond * TicksPerMicrosecond), DateTimeKind.Utc)
            : throw new InvalidDataException("item record has a time out of range");
    }

    private static DateOnly Day(int dayNumber) =>
        (uint)dayNumber <= (uint)DateOnly.MaxValue.DayNumber ? DateOnly.FromDayNumber(dayNumber) : throw new InvalidDataException("bad day number");

    /// <summary>What the KPI readers hand records to: the accumulator.</summary>
    private sealed class KpiSink(KpiAccumulator kpis) : IEnrichedRecordWriter
    {
        public void Write(in OrderFact order) => kpis.Add(order);

        public void Write(in EnrichedOrderItem item) => kpis.Add(item);

        public void Dispose()
        {
        }
    }

    /// <summary>The exact decimal with that unscaled value and scale (29.99 is 2999 and 2).</summary>
    private static decimal Price(long unscaled, byte scale) =>
        unscaled < 0
            ? throw new InvalidDataException("negative price")
            : new decimal((int)(unscaled & 0xFFFFFFFF), (int)(unscaled >> 32), 0, isNegative: false, scale);

    private static OrderStatus Status(byte value) =>
        Enum.IsDefined((OrderStatus)value) ? (OrderStatus)value : throw new InvalidDataException($"unknown status {value}");
}
