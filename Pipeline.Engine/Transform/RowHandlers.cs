using System.Runtime.CompilerServices;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Collections;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Validation;
using static Pipeline.Engine.Csv.TableSchema;

namespace Pipeline.Engine.Transform;

/// <summary>products.csv rows → the product catalog (id → category), within the limits on categories.</summary>
internal sealed class ProductRowHandler(BatchReferences references) : IRowHandler
{
    public void Handle(in RowContext row)
    {
        bool valid = row.RequireId(ProductColumn.Id, out long productId);
        valid &= row.RequireValue(ProductColumn.Category) && AllowedCategory(row);
        if (valid && !references.Products.TryAdd(productId, row.Field(ProductColumn.Category)))
        {
            row.Report(ValidationRule.DuplicateKey, ProductColumn.Id);
        }
    }

    private bool AllowedCategory(in RowContext row)
    {
        ReadOnlySpan<char> category = row.Field(ProductColumn.Category);
        BatchLimits limits = references.Limits;
        if (category.Length > limits.MaxCategoryChars)
        {
            return row.Report(ValidationRule.CategoryTooLong, ProductColumn.Category,
                $"The category is {BatchLimits.Count(category.Length)} characters long; " +
                $"at most {BatchLimits.Count(limits.MaxCategoryChars)} are allowed ({BatchLimits.Name(nameof(BatchLimits.MaxCategoryChars))}).");
        }

        CategoryIndex categories = references.Products.Categories;
        return categories.Count < limits.MaxCategories
            || categories.Contains(category)
            || row.Report(ValidationRule.TooManyCategories, ProductColumn.Category,
                $"The products file names more than {BatchLimits.Count(limits.MaxCategories)} distinct categories by this one; " +
                $"at most {BatchLimits.Count(limits.MaxCategories)} are allowed ({BatchLimits.Name(nameof(BatchLimits.MaxCategories))}).");
    }
}

/// <summary>
/// orders rows → order facts for the per-day order KPIs. The part's order ids are collected in
/// <paramref name="partOrderIds"/> (duplicates within the part are reported here, across parts on merge).
/// </summary>
internal sealed class OrderRowHandler(BatchReferences references, IdSet partOrderIds, KpiAccumulator kpis, IEnrichedRecordWriter? output) : IRowHandler
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Handle(in RowContext row)
    {
        bool valid = row.RequireId(OrderColumn.OrderId, out long orderId) &&
            (partOrderIds.Add(orderId) || row.Report(ValidationRule.DuplicateKey, OrderColumn.OrderId));
        valid &= row.RequireId(OrderColumn.UserId, out long userId);
        valid &= row.RequireStatus(OrderColumn.Status, out OrderStatus status);
        valid &= row.RequireCreatedAt(OrderColumn.CreatedAt, out DateOnly orderDate) && row.WithinDays(references.Days, OrderColumn.CreatedAt, orderDate);
        valid &= row.OptionalTimestamp(OrderColumn.ReturnedAt);
        valid &= row.OptionalTimestamp(OrderColumn.ShippedAt);
        valid &= row.OptionalTimestamp(OrderColumn.DeliveredAt);
        valid &= row.RequireCount(OrderColumn.NumOfItem, out int numOfItem);
        if (valid)
        {
            var order = new OrderFact(orderId, userId, status, orderDate, numOfItem);
            kpis.Add(order);
            output?.Write(order);
        }
    }
}

/// <summary>
/// order_items rows → items enriched with their category, checked against the batch's orders and
/// products (complete by now: items are read last). Item ids are collected like order ids.
/// </summary>
internal sealed class OrderItemRowHandler(BatchReferences references, IdSet partItemIds, KpiAccumulator kpis, IEnrichedRecordWriter? output) : IRowHandler
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Handle(in RowContext row)
    {
        bool valid = row.RequireId(OrderItemColumn.Id, out long itemId) &&
            (partItemIds.Add(itemId) || row.Report(ValidationRule.DuplicateKey, OrderItemColumn.Id));
        valid &= row.RequireId(OrderItemColumn.OrderId, out long orderId) && KnownOrder(row, orderId);
        valid &= row.RequireId(OrderItemColumn.UserId, out long userId);
        ProductCategory category = default;
        valid &= row.RequireId(OrderItemColumn.ProductId, out long productId) && KnownProduct(row, productId, out category);
        valid &= row.RequireStatus(OrderItemColumn.Status, out OrderStatus status);
        valid &= row.RequireCreatedAt(OrderItemColumn.CreatedAt, out DateTime createdAt)
            && row.WithinDays(references.Days, OrderItemColumn.CreatedAt, DateOnly.FromDateTime(createdAt));
        valid &= row.OptionalTimestamp(OrderItemColumn.ShippedAt, out DateTime? shippedAt);
        valid &= row.OptionalTimestamp(OrderItemColumn.DeliveredAt, out DateTime? deliveredAt);
        valid &= row.OptionalTimestamp(OrderItemColumn.ReturnedAt, out DateTime? returnedAt);
        valid &= row.RequireSalePrice(OrderItemColumn.SalePrice, out decimal salePrice);
        if (valid)
        {
            var times = new ItemTimes(createdAt, shippedAt, deliveredAt, returnedAt);
            var item = new EnrichedOrderItem(itemId, orderId, userId, productId, category, status, times, salePrice);
            kpis.Add(item);
            output?.Write(item);
        }
    }

    // When orders or products could not be read at all, their errors are already reported:
    // flagging every item as well would only bury them.
    private bool KnownOrder(in RowContext row, long orderId) =>
        references.OrderIds.Contains(orderId) || !references.OrdersComplete || row.Report(ValidationRule.UnknownOrder, OrderItemColumn.OrderId);

    private bool KnownProduct(in RowContext row, long productId, out ProductCategory category) =>
        references.Products.TryGetCategory(productId, out category) ||
        (references.ProductsComplete && row.Report(ValidationRule.UnknownProduct, OrderItemColumn.ProductId));
}

/// <summary>
/// A second look at a part for keys found to be wrong only after it was read (a duplicate across parts, an order
/// counted in another batch): reports the first row of each, with its own message, so it gets a line number.
/// </summary>
internal sealed class KeyFinder(int keyColumn, string rule, IReadOnlyDictionary<long, string> messages, FileDiagnostics diagnostics) : IRowHandler
{
    private readonly HashSet<long> _pending = [.. messages.Keys];

    public void Handle(in RowContext row)
    {
        ReadOnlySpan<char> key = row.Field(keyColumn);
        if (FieldParsers.TryParsePositiveId(key, out long id) && _pending.Remove(id))
        {
            diagnostics.Report(rule, row.Line, TableSchema.For(diagnostics.Table).Columns[keyColumn], key, messages[id]);
        }
    }
}
