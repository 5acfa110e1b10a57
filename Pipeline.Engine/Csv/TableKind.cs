namespace Pipeline.Engine.Csv;

/// <summary>The three tables a batch is made of.</summary>
public enum TableKind
{
    Products,
    Orders,
    OrderItems,
}

/// <summary>
/// The name of each table wherever a batch spells it: the folder of its parts (<c>orders/</c>, <c>order_items/</c>),
/// its single file (<c>products.csv</c>, <c>orders.csv</c>), its list in the manifest, and its row count in a stage's counts.
/// </summary>
public static class TableNames
{
    public const string Products = "products";
    public const string Orders = "orders";
    public const string OrderItems = "order_items";

    /// <summary>The products file of a batch folder.</summary>
    public const string ProductsFile = Products + ".csv";

    public static string Of(TableKind table) => table switch
    {
        TableKind.Products => Products,
        TableKind.Orders => Orders,
        TableKind.OrderItems => OrderItems,
        _ => throw new ArgumentOutOfRangeException(nameof(table), table, null),
    };
}
