namespace Pipeline.Engine.Transform;

/// <summary>
/// Gives each category name a dense index so the hot path keys KPIs by an int, not a string.
/// Written while products load (one thread), read afterwards by any number.
/// </summary>
public sealed class CategoryIndex
{
    private readonly List<string> _names = [];
    private readonly Dictionary<string, int> _indexByName = new(StringComparer.Ordinal);

    public int Count => _names.Count;

    public bool Contains(ReadOnlySpan<char> name) => _indexByName.GetAlternateLookup<ReadOnlySpan<char>>().ContainsKey(name);

    public ProductCategory GetOrAdd(ReadOnlySpan<char> name)
    {
        var lookup = _indexByName.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(name, out int index))
        {
            return new ProductCategory(index, _names[index]);
        }

        string text = name.ToString();
        index = _names.Count;
        _names.Add(text);
        _indexByName.Add(text, index);
        return new ProductCategory(index, text);
    }

    public string NameOf(int index) => _names[index];
}
