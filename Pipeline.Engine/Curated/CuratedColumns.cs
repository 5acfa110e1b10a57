using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using ParquetSharp;
using ParquetSharp.Schema;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Curated;

/// <summary>
/// The curated order_items table's Parquet columns, in the order the table declares them, and a row group's values,
/// written with ParquetSharp's column writers: each column is handed over whole, in its physical type (ids and times as
/// 64-bit integers, prices as 16-byte big-endian integers, texts as pointers to their UTF-8 bytes), and Arrow's native
/// code encodes and compresses it. One per writer, used by one thread.
/// </summary>
internal sealed class CuratedColumns : IDisposable
{
    public const int PricePrecision = 38;
    public const int PriceScale = 18;

    /// <summary>DECIMAL(38,18) is a FIXED_LEN_BYTE_ARRAY of 16 bytes: the unscaled integer, big-endian two's complement.</summary>
    private const int PriceBytes = 16;

    // DECIMAL(38,18) holds fewer than 10^20 before the point.
    private static readonly decimal PriceLimit = 100_000_000_000_000_000_000m;

    // 10^0 .. 10^18, to scale a price's integer to PriceScale decimals.
    private static readonly UInt128[] PowersOfTen = PowersOf10(PriceScale);

    private readonly ColumnValues _values = new();

    public CuratedColumns(CuratedCompression compression)
    {
        Schema = CreateSchema();
        using var builder = new WriterPropertiesBuilder();
        // Zstd at its own default level (Snappy has none); only the two texts repeat enough for a dictionary to pay.
        if (compression == CuratedCompression.Snappy)
        {
            builder.Compression(Compression.Snappy);
        }
        else
        {
            builder.Compression(Compression.Zstd).CompressionLevel(3);
        }
        builder.DisableDictionary().EnableDictionary("category").EnableDictionary("status")
            .MaxRowGroupLength(long.MaxValue); // row groups are the writer's (CuratedWriterOptions.RowGroupRows)
        Properties = builder.Build();
    }

    public GroupNode Schema { get; }

    public WriterProperties Properties { get; }

    private static GroupNode CreateSchema()
    {
        Node[] columns =
        [
            Int64("order_id"), Int64("item_id"), Int64("user_id"), Int64("product_id"),
            Text("category"), Text("status"),
            new PrimitiveNode("sale_price", Repetition.Required, LogicalType.Decimal(PricePrecision, PriceScale), PhysicalType.FixedLenByteArray, PriceBytes),
            Timestamp("created_at", Repetition.Required), Timestamp("shipped_at", Repetition.Optional),
            Timestamp("delivered_at", Repetition.Optional), Timestamp("returned_at", Repetition.Optional),
        ];
        try
        {
            return new GroupNode("schema", Repetition.Required, columns);
        }
        finally
        {
            foreach (var column in columns)
            {
                column.Dispose(); // the group holds its own references
            }
        }
    }

    private static PrimitiveNode Int64(string name) => new(name, Repetition.Required, LogicalType.None(), PhysicalType.Int64);

    private static PrimitiveNode Text(string name) => new(name, Repetition.Required, LogicalType.String(), PhysicalType.ByteArray);

    private static PrimitiveNode Timestamp(string name, Repetition repetition) =>
        new(name, repetition, LogicalType.Timestamp(isAdjustedToUtc: true, TimeUnit.Micros), PhysicalType.Int64);

    /// <summary>Whether DECIMAL(38,18) holds <paramref name="price"/> exactly: validation refuses any other (rule <c>field.invalid_sale_price</c>).</summary>
    public static bool Holds(decimal price) =>
        (price.Scale <= PriceScale || decimal.Round(price, PriceScale) == price) && Math.Abs(price) < PriceLimit;

    /// <summary>
    /// <paramref name="price"/> as DECIMAL(38,18) stores it: the integer price × 10^18, exactly. A price it
    /// <see cref="Holds"/> has at most 18 decimals that are not zeros and fewer than 20 digits before the point, so the
    /// integer is below 10^38 and fits an <see cref="Int128"/>.
    /// </summary>
    public static Int128 Unscaled(decimal price)
    {
        if (price.Scale > PriceScale)
        {
            price = decimal.Round(price, PriceScale); // drops trailing zeros only: Holds said so
        }
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(price, bits);
        var integer = new UInt128((uint)bits[2], ((ulong)(uint)bits[1] << 32) | (uint)bits[0]);
        var unscaled = (Int128)(integer * PowersOfTen[PriceScale - price.Scale]);
        return price < 0 ? -unscaled : unscaled;
    }

    private static UInt128[] PowersOf10(int highest)
    {
        var powers = new UInt128[highest + 1];
        powers[0] = 1;
        for (int n = 1; n <= highest; n++)
        {
            powers[n] = powers[n - 1] * 10;
        }
        return powers;
    }

    /// <exception cref="ArgumentOutOfRangeException">The sale price does not fit DECIMAL(38,18) exactly.</exception>
    public static void CheckPrice(in EnrichedOrderItem item)
    {
        decimal price = item.SalePrice;
        if (!Holds(price))
        {
            throw new ArgumentOutOfRangeException(nameof(item), price,
                $"item {item.ItemId} (order {item.OrderId}): the sale price {price} does not fit DECIMAL({PricePrecision},{PriceScale}) " +
                $"exactly; the curated table would have to round it");
        }
    }

    /// <summary>Writes <paramref name="rows"/> as one row group.</summary>
    public void WriteRowGroup(ParquetFileWriter writer, CuratedRowBuffer rows)
    {
        var values = _values;
        int count = values.Fill(rows);
        using RowGroupWriter group = writer.AppendRowGroup();
        Required(group, values.OrderIds, count);
        Required(group, values.ItemIds, count);
        Required(group, values.UserIds, count);
        Required(group, values.ProductIds, count);
        Required(group, values.Categories, count);
        Required(group, values.Statuses, count);
        Required(group, values.SalePrices, count);
        Required(group, values.CreatedAt, count);
        values.ShippedAt.Write(group, count);
        values.DeliveredAt.Write(group, count);
        values.ReturnedAt.Write(group, count);
    }

    private static void Required<T>(RowGroupWriter group, T[] values, int count)
        where T : unmanaged
    {
        using var column = (ColumnWriter<T>)group.NextColumn();
        column.WriteBatch(values.AsSpan(0, count));
    }

    /// <summary>Microseconds since 1970-01-01 UTC, TIMESTAMP(MICROS)'s integer (the enriched times are UTC, whole microseconds).</summary>
    private static long Microseconds(DateTime time) => (time.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;

    public void Dispose()
    {
        Properties.Dispose();
        Schema.Dispose();
    }

    /// <summary>
    /// A row group's values column by column, in arrays kept from one row group to the next and grown only for a larger
    /// one: new arrays for every row group were large-object garbage. The native writer reads prices and texts through
    /// pointers, so their bytes are in pinned arrays: the prices' in one, each text's in its own, kept while the writer lives.
    /// </summary>
    private sealed class ColumnValues
    {
        public long[] OrderIds = [], ItemIds = [], UserIds = [], ProductIds = [], CreatedAt = [];
        public ByteArray[] Categories = [], Statuses = [];
        public FixedLenByteArray[] SalePrices = [];
        public readonly OptionalTimes ShippedAt = new(), DeliveredAt = new(), ReturnedAt = new();
        private byte[] _priceBytes = [];
        private readonly Dictionary<string, ByteArray> _texts = new(StringComparer.Ordinal);
        private readonly List<byte[]> _textBytes = [];

        /// <summary>Fills the columns from <paramref name="rows"/>; returns how many rows they hold.</summary>
        public int Fill(CuratedRowBuffer rows)
        {
            if (rows.Count > OrderIds.Length)
            {
                Grow(rows.Count);
            }
            ShippedAt.Clear();
            DeliveredAt.Clear();
            ReturnedAt.Clear();
            int row = 0;
            foreach (ArraySegment<EnrichedOrderItem> chunk in rows.Chunks())
            {
                foreach (ref readonly EnrichedOrderItem item in chunk.AsSpan())
                {
                    OrderIds[row] = item.OrderId;
                    ItemIds[row] = item.ItemId;
                    UserIds[row] = item.UserId;
                    ProductIds[row] = item.ProductId;
                    Categories[row] = Text(item.Category.Name);
                    Statuses[row] = Text(OrderStatusText.Of(item.Status));
                    BinaryPrimitives.WriteInt128BigEndian(_priceBytes.AsSpan(row * PriceBytes, PriceBytes), Unscaled(item.SalePrice));
                    CreatedAt[row] = Microseconds(item.Times.CreatedAt);
                    ShippedAt.Add(row, item.Times.ShippedAt);
                    DeliveredAt.Add(row, item.Times.DeliveredAt);
                    ReturnedAt.Add(row, item.Times.ReturnedAt);
                    row++;
                }
            }
            return row;
        }

        private ByteArray Text(string text)
        {
            if (!_texts.TryGetValue(text, out ByteArray bytes))
            {
                byte[] utf8 = GC.AllocateArray<byte>(Math.Max(1, System.Text.Encoding.UTF8.GetByteCount(text)), pinned: true);
                int length = System.Text.Encoding.UTF8.GetBytes(text, utf8);
                _textBytes.Add(utf8);
                bytes = new ByteArray(Marshal.UnsafeAddrOfPinnedArrayElement(utf8, 0), length);
                _texts.Add(text, bytes);
            }
            return bytes;
        }

        private void Grow(int rows)
        {
            int size = (int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)rows), Array.MaxLength / PriceBytes);
            OrderIds = new long[size];
            ItemIds = new long[size];
            UserIds = new long[size];
            ProductIds = new long[size];
            CreatedAt = new long[size];
            Categories = new ByteArray[size];
            Statuses = new ByteArray[size];
            _priceBytes = GC.AllocateArray<byte>(size * PriceBytes, pinned: true);
            SalePrices = new FixedLenByteArray[size];
            for (int row = 0; row < size; row++)
            {
                SalePrices[row] = new FixedLenByteArray(Marshal.UnsafeAddrOfPinnedArrayElement(_priceBytes, row * PriceBytes));
            }
            ShippedAt.Grow(size);
            DeliveredAt.Grow(size);
            ReturnedAt.Grow(size);
        }
    }

    /// <summary>A nullable time column: a definition level a row (1 present, 0 null) and the present values only.</summary>
    private sealed class OptionalTimes
    {
        private long[] _values = [];
        private short[] _levels = [];
        private int _present;

        public void Grow(int size)
        {
            _values = new long[size];
            _levels = new short[size];
        }

        public void Clear() => _present = 0;

        public void Add(int row, DateTime? time)
        {
            if (time is { } value)
            {
                _values[_present++] = Microseconds(value);
                _levels[row] = 1;
            }
            else
            {
                _levels[row] = 0;
            }
        }

        public void Write(RowGroupWriter group, int count)
        {
            using var column = (ColumnWriter<long>)group.NextColumn();
            column.WriteBatch(count, _levels.AsSpan(0, count), default, _values.AsSpan(0, _present));
        }
    }
}
