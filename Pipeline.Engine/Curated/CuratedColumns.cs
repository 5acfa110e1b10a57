using System.Numerics;
using Parquet;
using Parquet.Data;
using Parquet.Schema;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Curated;

/// <summary>
/// The curated order_items table's Parquet columns, in the order the table declares them, and a row group's values.
/// One per writer: Parquet.Net's schema objects are not documented as safe to share between threads.
/// </summary>
internal sealed class CuratedColumns
{
    public const int PricePrecision = 38;
    public const int PriceScale = 18;

    // DECIMAL(38,18) holds fewer than 10^20 before the point.
    private static readonly decimal PriceLimit = 100_000_000_000_000_000_000m;

    // 10^0 .. 10^18, to scale a price's integer to PriceScale decimals.
    private static readonly UInt128[] PowersOfTen = PowersOf10(PriceScale);

    private readonly DataField<long> _orderId = new("order_id");
    private readonly DataField<long> _itemId = new("item_id");
    private readonly DataField<long> _userId = new("user_id");
    private readonly DataField<long> _productId = new("product_id");
    private readonly DataField _category = new("category", typeof(string), isNullable: false);
    private readonly DataField _status = new("status", typeof(string), isNullable: false);
    // Written as the unscaled integer (BigDecimal): Parquet.Net's own decimal conversion goes through BigInteger
    // arithmetic and took a third of the file's write time; the column's bytes are the same.
    private readonly BigDecimalDataField _salePrice = new("sale_price", PricePrecision, PriceScale, isNullable: false);
    private readonly DateTimeDataField _createdAt = Timestamp("created_at", isNullable: false);
    private readonly DateTimeDataField _shippedAt = Timestamp("shipped_at", isNullable: true);
    private readonly DateTimeDataField _deliveredAt = Timestamp("delivered_at", isNullable: true);
    private readonly DateTimeDataField _returnedAt = Timestamp("returned_at", isNullable: true);
    private readonly ColumnValues _values = new();

    public CuratedColumns() =>
        Schema = new(_orderId, _itemId, _userId, _productId, _category, _status, _salePrice, _createdAt, _shippedAt, _deliveredAt, _returnedAt);

    public ParquetSchema Schema { get; }

    public static ParquetOptions WriterOptions(CuratedCompression compression) => new()
    {
        CompressionMethod = compression == CuratedCompression.Snappy ? CompressionMethod.Snappy : CompressionMethod.Zstd,
        // Parquet.Net's default (SmallestSize) is Zstd's slowest level: eighteen times the write time for files 9 % smaller.
        CompressionLevel = System.IO.Compression.CompressionLevel.Optimal,
    };

    private static DateTimeDataField Timestamp(string name, bool isNullable) =>
        new(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: isNullable);

    /// <summary>Whether DECIMAL(38,18) holds <paramref name="price"/> exactly: validation refuses any other (rule <c>field.invalid_sale_price</c>).</summary>
    public static bool Holds(decimal price) =>
        (price.Scale <= PriceScale || decimal.Round(price, PriceScale) == price) && Math.Abs(price) < PriceLimit;

    /// <summary>
    /// <paramref name="price"/> as DECIMAL(38,18) stores it: the integer price × 10^18, exactly. A price it
    /// <see cref="Holds"/> has at most 18 decimals that are not zeros and fewer than 20 digits before the point, so the
    /// integer is below 10^38 and fits an <see cref="Int128"/>.
    /// </summary>
    public static BigDecimal Unscaled(decimal price)
    {
        if (price.Scale > PriceScale)
        {
            price = decimal.Round(price, PriceScale); // drops trailing zeros only: Holds said so
        }
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(price, bits);
        var integer = new UInt128((uint)bits[2], ((ulong)(uint)bits[1] << 32) | (uint)bits[0]);
        var unscaled = (Int128)(integer * PowersOfTen[PriceScale - price.Scale]);
        return new BigDecimal(price < 0 ? -unscaled : unscaled, PricePrecision, PriceScale);
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
    public void WriteRowGroup(ParquetWriter writer, CuratedRowBuffer rows)
    {
        int count = _values.Fill(rows);
        using ParquetRowGroupWriter group = writer.CreateRowGroup();
        Wait(group.WriteAsync<long>(_orderId, _values.OrderIds.AsMemory(0, count)));
        Wait(group.WriteAsync<long>(_itemId, _values.ItemIds.AsMemory(0, count)));
        Wait(group.WriteAsync<long>(_userId, _values.UserIds.AsMemory(0, count)));
        Wait(group.WriteAsync<long>(_productId, _values.ProductIds.AsMemory(0, count)));
        Wait(group.WriteAsync(_category, new ArraySegment<string>(_values.Categories, 0, count)));
        Wait(group.WriteAsync(_status, new ArraySegment<string>(_values.Statuses, 0, count)));
        Wait(group.WriteAsync<BigDecimal>(_salePrice, _values.SalePrices.AsMemory(0, count)));
        Wait(group.WriteAsync<DateTime>(_createdAt, _values.CreatedAt.AsMemory(0, count)));
        Wait(group.WriteAsync<DateTime>(_shippedAt, _values.ShippedAt.AsMemory(0, count)));
        Wait(group.WriteAsync<DateTime>(_deliveredAt, _values.DeliveredAt.AsMemory(0, count)));
        Wait(group.WriteAsync<DateTime>(_returnedAt, _values.ReturnedAt.AsMemory(0, count)));
    }

    // IEnrichedRecordWriter is synchronous; Parquet.Net wants the columns one after another anyway.
    private static void Wait(Task write) => write.GetAwaiter().GetResult();

    /// <summary>
    /// A row group's values column by column, in arrays kept from one row group to the next and grown only for a larger
    /// one: new arrays for every row group were large-object garbage.
    /// </summary>
    private sealed class ColumnValues
    {
        public long[] OrderIds = [], ItemIds = [], UserIds = [], ProductIds = [];
        public string[] Categories = [], Statuses = [];
        public BigDecimal[] SalePrices = [];
        public DateTime[] CreatedAt = [];
        public DateTime?[] ShippedAt = [], DeliveredAt = [], ReturnedAt = [];

        /// <summary>Fills the columns from <paramref name="rows"/>; returns how many rows they hold.</summary>
        public int Fill(CuratedRowBuffer rows)
        {
            if (rows.Count > OrderIds.Length)
            {
                Grow(rows.Count);
            }
            int row = 0;
            foreach (ArraySegment<EnrichedOrderItem> chunk in rows.Chunks())
            {
                foreach (ref readonly EnrichedOrderItem item in chunk.AsSpan())
                {
                    OrderIds[row] = item.OrderId;
                    ItemIds[row] = item.ItemId;
                    UserIds[row] = item.UserId;
                    ProductIds[row] = item.ProductId;
                    Categories[row] = item.Category.Name;
                    Statuses[row] = OrderStatusText.Of(item.Status);
                    SalePrices[row] = Unscaled(item.SalePrice);
                    CreatedAt[row] = item.Times.CreatedAt;
                    ShippedAt[row] = item.Times.ShippedAt;
                    DeliveredAt[row] = item.Times.DeliveredAt;
                    ReturnedAt[row] = item.Times.ReturnedAt;
                    row++;
                }
            }
            return row;
        }

        private void Grow(int rows)
        {
            int size = (int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)rows), Array.MaxLength);
            OrderIds = new long[size];
            ItemIds = new long[size];
            UserIds = new long[size];
            ProductIds = new long[size];
            Categories = new string[size];
            Statuses = new string[size];
            SalePrices = new BigDecimal[size];
            CreatedAt = new DateTime[size];
            ShippedAt = new DateTime?[size];
            DeliveredAt = new DateTime?[size];
            ReturnedAt = new DateTime?[size];
        }
    }
}
