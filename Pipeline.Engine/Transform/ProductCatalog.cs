namespace Pipeline.Engine.Transform;

/// <summary>
/// product id → category, built from products.csv and used to enrich order items.
/// Products are the small dimension table, so a dictionary is the right size here.
/// </summary>
public sealed class ProductCatalog
{
    private readonly Dictionary<long, ProductCategory> _categoryById = [];

    public CategoryIndex Categories { get; } = new();

    public int Count => _categoryById.Count;

    /// <summary>Adds a product; false when its id is already known.</summary>
    public bool TryAdd(long productId, ReadOnlySpan<char> category) =>
        _categoryById.TryAdd(productId, Categories.GetOrAdd(category));

    public bool TryGetCategory(long productId, out ProductCategory category) =>
        _categoryById.TryGetValue(productId, out category);
}
