namespace Pipeline.Engine.Transform;

/// <summary>An order row after validation, reduced to what the KPIs use.</summary>
public readonly record struct OrderFact(long OrderId, long UserId, OrderStatus Status, DateOnly OrderDate, int NumOfItem);

/// <summary>
/// An order item after validation, enriched with its product's category.
/// <see cref="OrderDate"/> is the date part of the item's own created_at.
/// </summary>
public readonly record struct EnrichedOrderItem(
    long ItemId,
    long OrderId,
    long UserId,
    long ProductId,
    ProductCategory Category,
    OrderStatus Status,
    DateOnly OrderDate,
    decimal SalePrice);

/// <summary>A category name with its dense index in the batch's <see cref="CategoryIndex"/>.</summary>
public readonly record struct ProductCategory(int Index, string Name);
