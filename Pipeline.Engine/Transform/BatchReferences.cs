using Pipeline.Engine.Batches;
using Pipeline.Engine.Collections;
using Pipeline.Engine.Csv;

namespace Pipeline.Engine.Transform;

/// <summary>
/// The keys a batch must remember to check uniqueness and references: the only state besides the
/// KPIs that grows with the input, kept compact (<see cref="IdSet"/>: about a bit per dense id); and the
/// batch's days and categories, counted against its limits.
/// </summary>
internal sealed class BatchReferences(BatchLimits limits)
{
    public BatchLimits Limits { get; } = limits;

    public ProductCatalog Products { get; } = new();

    public BatchDays Days { get; } = new(limits.MaxDays);

    public IdRangeBudget IdRanges { get; } = new(limits);

    public IdSet OrderIds { get; } = new();

    public IdSet ItemIds { get; } = new();

    /// <summary>Records whether a part could be read as a table; unread keys make references unprovable.</summary>
    public void MarkRead(TableKind table, bool complete)
    {
        ProductsComplete &= complete || table != TableKind.Products;
        OrdersComplete &= complete || table != TableKind.Orders;
    }

    /// <summary>The batch-wide key set of a table (null for products, whose keys live in the catalog).</summary>
    public IdSet? KeysOf(TableKind table) => table switch
    {
        TableKind.Orders => OrderIds,
        TableKind.OrderItems => ItemIds,
        _ => null,
    };

    /// <summary>False when some orders file could not be read, so unknown order ids prove nothing.</summary>
    public bool OrdersComplete { get; set; } = true;

    /// <summary>False when products.csv could not be read, so unknown product ids prove nothing.</summary>
    public bool ProductsComplete { get; set; } = true;
}
