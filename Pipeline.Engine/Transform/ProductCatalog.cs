namespace Pipeline.Engine.Transform;

/// <summary>
/// product id → category, built from products.csv and looked up for every order item: ids below
/// about a million sit in an array of category indices (4 bytes an id), others in a dictionary.
/// Written by one thread while products load; read by any number afterwards.
/// </summary>
public sealed class ProductCatalog
{
    private const long ArrayLimit = 1 << 20;

    private readonly Dictionary<long, int> _farIds = [];
    private int[] _categoryPlusOneById = [];

    public CategoryIndex Categories { get; } = new();

    public int Count { get; private set; }

    /// <summary>Adds a product; false when its id is already known.</summary>
    public bool TryAdd(long productId, ReadOnlySpan<char> category)
    {
        if (TryGetCategory(productId, out _))
        {
            return false;
        }

        int index = Categories.GetOrAdd(category).Index;
        if (productId < ArrayLimit)
        {
            if (productId >= _categoryPlusOneById.Length)
            {
                Array.Resize(ref _categoryPlusOneById, (int)Math.Min(ArrayLimit, Math.Max(productId + 1, _categoryPlusOneById.Length * 2L)));
            }

            _categoryPlusOneById[productId] = index + 1;
        }
        else
        {
            _farIds[productId] = index;
        }

        Count++;
        return true;
    }

    public bool TryGetCategory(long productId, out ProductCategory category)
    {
        int index = (ulong)productId < (ulong)_categoryPlusOneById.Length ? _categoryPlusOneById[productId] - 1
            : _farIds.TryGetValue(productId, out int farIndex) ? farIndex : -1;
        category = index >= 0 ? new ProductCategory(index, Categories.NameOf(index)) : default;
        return index >= 0;
    }
}
