namespace Pipeline.Engine.Transform;

/// <summary>An order row after validation, reduced to what the KPIs use.</summary>
public readonly record struct OrderFact(long OrderId, long UserId, OrderStatus Status, DateOnly OrderDate, int NumOfItem);

/// <summary>An order item after validation, enriched with its product's category.</summary>
public readonly record struct EnrichedOrderItem(
    long ItemId,
    long OrderId,
    long UserId,
    long ProductId,
    ProductCategory Category,
    OrderStatus Status,
    ItemTimes Times,
    decimal SalePrice)
{
    /// <summary>The date part of the item's own created_at: the day its KPIs and its curated partition belong to.</summary>
    public DateOnly OrderDate => DateOnly.FromDateTime(Times.CreatedAt);
}

/// <summary>
/// An item's timestamps in UTC (<see cref="DateTimeKind.Utc"/>); the CSV writes them without an offset, in UTC.
/// The optional ones are null where the CSV leaves them empty.
/// </summary>
public readonly record struct ItemTimes(DateTime CreatedAt, DateTime? ShippedAt, DateTime? DeliveredAt, DateTime? ReturnedAt);

/// <summary>A category name with its dense index in the batch's <see cref="CategoryIndex"/>.</summary>
public readonly record struct ProductCategory(int Index, string Name);
