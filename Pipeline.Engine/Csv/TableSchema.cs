namespace Pipeline.Engine.Csv;

/// <summary>
/// The columns a table must have (found by header name, in any order) and the ones that may not be empty.
/// Row handlers address columns through the index constants below, which follow <see cref="Columns"/>.
/// </summary>
public sealed class TableSchema
{
    private TableSchema(TableKind table, string[] columns, string[] critical)
    {
        Table = table;
        Columns = columns;
        Critical = critical;
    }

    public TableKind Table { get; }

    public IReadOnlyList<string> Columns { get; }

    /// <summary>Columns whose value may not be empty.</summary>
    public IReadOnlyList<string> Critical { get; }

    public static TableSchema Products { get; } = new(
        TableKind.Products,
        ["id", "sku", "cost", "category", "name", "brand", "retail_price", "department"],
        ["id", "category"]);

    public static TableSchema Orders { get; } = new(
        TableKind.Orders,
        ["order_id", "user_id", "status", "created_at", "returned_at", "shipped_at", "delivered_at", "num_of_item"],
        ["order_id", "user_id", "status", "created_at", "num_of_item"]);

    public static TableSchema OrderItems { get; } = new(
        TableKind.OrderItems,
        ["id", "order_id", "user_id", "product_id", "status", "created_at", "shipped_at", "delivered_at", "returned_at", "sale_price"],
        ["id", "order_id", "user_id", "product_id", "status", "created_at", "sale_price"]);

    public static TableSchema For(TableKind table) => table switch
    {
        TableKind.Products => Products,
        TableKind.Orders => Orders,
        TableKind.OrderItems => OrderItems,
        _ => throw new ArgumentOutOfRangeException(nameof(table), table, null),
    };

    /// <summary>Column indices of <see cref="Products"/>.</summary>
    internal static class ProductColumn
    {
        public const int Id = 0;
        public const int Category = 3;
    }

    /// <summary>Column indices of <see cref="Orders"/>.</summary>
    internal static class OrderColumn
    {
        public const int OrderId = 0;
        public const int UserId = 1;
        public const int Status = 2;
        public const int CreatedAt = 3;
        public const int ReturnedAt = 4;
        public const int ShippedAt = 5;
        public const int DeliveredAt = 6;
        public const int NumOfItem = 7;
    }

    /// <summary>Column indices of <see cref="OrderItems"/>.</summary>
    internal static class OrderItemColumn
    {
        public const int Id = 0;
        public const int OrderId = 1;
        public const int UserId = 2;
        public const int ProductId = 3;
        public const int Status = 4;
        public const int CreatedAt = 5;
        public const int ShippedAt = 6;
        public const int DeliveredAt = 7;
        public const int ReturnedAt = 8;
        public const int SalePrice = 9;
    }
}
