using System.Runtime.InteropServices;
using Parquet;
using Parquet.Schema;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Curated;

/// <summary>The curated order_items table's Parquet columns, in the order the table declares them, and a row group's values.</summary>
internal static class CuratedColumns
{
    public const int PricePrecision = 38;
    public const int PriceScale = 18;

    // DECIMAL(38,18) holds fewer than 10^20 before the point.
    private static readonly decimal PriceLimit = 100_000_000_000_000_000_000m;

    private static readonly DataField<long> OrderId = new("order_id");
    private static readonly DataField<long> ItemId = new("item_id");
    private static readonly DataField<long> UserId = new("user_id");
    private static readonly DataField<long> ProductId = new("product_id");
    private static readonly DataField Category = new("category", typeof(string), isNullable: false);
    private static readonly DataField Status = new("status", typeof(string), isNullable: false);
    private static readonly DecimalDataField SalePrice = new("sale_price", PricePrecision, PriceScale, forceByteArrayEncoding: true, isNullable: false);
    private static readonly DateTimeDataField CreatedAt = Timestamp("created_at", isNullable: false);
    private static readonly DateTimeDataField ShippedAt = Timestamp("shipped_at", isNullable: true);
    private static readonly DateTimeDataField DeliveredAt = Timestamp("delivered_at", isNullable: true);
    private static readonly DateTimeDataField ReturnedAt = Timestamp("returned_at", isNullable: true);

    public static ParquetSchema Schema { get; } = new(
        OrderId, ItemId, UserId, ProductId, Category, Status, SalePrice, CreatedAt, ShippedAt, DeliveredAt, ReturnedAt);

    public static ParquetOptions WriterOptions(CuratedCompression compression) => new()
    {
        CompressionMethod = compression == CuratedCompression.Snappy ? CompressionMethod.Snappy : CompressionMethod.Zstd,
        // Parquet.Net's default (SmallestSize) is Zstd's slowest level: twenty times the write time for a third less.
        CompressionLevel = System.IO.Compression.CompressionLevel.Optimal,
    };

    private static DateTimeDataField Timestamp(string name, bool isNullable) =>
        new(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: isNullable);

    /// <exception cref="ArgumentOutOfRangeException">The sale price does not fit DECIMAL(38,18) exactly.</exception>
    public static void CheckPrice(in EnrichedOrderItem item)
    {
        decimal price = item.SalePrice;
        if ((price.Scale > PriceScale && decimal.Round(price, PriceScale) != price) || Math.Abs(price) >= PriceLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(item), price,
                $"item {item.ItemId} (order {item.OrderId}): the sale price {price} does not fit DECIMAL({PricePrecision},{PriceScale}) " +
                $"exactly; the curated table would have to round it");
        }
    }

    /// <summary>Writes <paramref name="items"/> as one row group.</summary>
    public static void WriteRowGroup(ParquetWriter writer, List<EnrichedOrderItem> items)
    {
        ReadOnlySpan<EnrichedOrderItem> rows = CollectionsMarshal.AsSpan(items);
        using ParquetRowGroupWriter group = writer.CreateRowGroup();
        Write(group, OrderId, rows, static (in EnrichedOrderItem i) => i.OrderId);
        Write(group, ItemId, rows, static (in EnrichedOrderItem i) => i.ItemId);
        Write(group, UserId, rows, static (in EnrichedOrderItem i) => i.UserId);
        Write(group, ProductId, rows, static (in EnrichedOrderItem i) => i.ProductId);
        WriteStrings(group, Category, rows, static (in EnrichedOrderItem i) => i.Category.Name);
        WriteStrings(group, Status, rows, static (in EnrichedOrderItem i) => OrderStatusText.Of(i.Status));
        Write(group, SalePrice, rows, static (in EnrichedOrderItem i) => i.SalePrice);
        Write(group, CreatedAt, rows, static (in EnrichedOrderItem i) => i.Times.CreatedAt);
        Write(group, ShippedAt, rows, static (in EnrichedOrderItem i) => i.Times.ShippedAt);
        Write(group, DeliveredAt, rows, static (in EnrichedOrderItem i) => i.Times.DeliveredAt);
        Write(group, ReturnedAt, rows, static (in EnrichedOrderItem i) => i.Times.ReturnedAt);
    }

    private delegate T Column<T>(in EnrichedOrderItem item);

    private static void Write<T>(ParquetRowGroupWriter group, DataField field, ReadOnlySpan<EnrichedOrderItem> rows, Column<T> column)
        where T : struct
    {
        var values = new T[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            values[i] = column(rows[i]);
        }
        group.WriteAsync<T>(field, values).GetAwaiter().GetResult();
    }

    private static void Write<T>(ParquetRowGroupWriter group, DataField field, ReadOnlySpan<EnrichedOrderItem> rows, Column<T?> column)
        where T : struct
    {
        var values = new T?[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            values[i] = column(rows[i]);
        }
        group.WriteAsync<T>(field, values).GetAwaiter().GetResult();
    }

    private static void WriteStrings(ParquetRowGroupWriter group, DataField field, ReadOnlySpan<EnrichedOrderItem> rows, Column<string> column)
    {
        var values = new string[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            values[i] = column(rows[i]);
        }
        group.WriteAsync(field, values).GetAwaiter().GetResult();
    }
}
