namespace Aws.Query;

/// <summary>The form of one Query API call: its action, the API's version and the parameters, flattened as the Query API names them.</summary>
public sealed class QueryForm
{
    private readonly List<KeyValuePair<string, string>> _fields;

    public QueryForm(QueryApi api, string action)
    {
        Action = action;
        _fields = [new("Action", action), new("Version", api.Version)];
    }

    public string Action { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Fields => _fields;

    /// <summary>Adds a parameter; a null value is left out.</summary>
    public QueryForm Add(string name, string? value)
    {
        if (value is not null)
        {
            _fields.Add(new(name, value));
        }
        return this;
    }

    /// <summary>Maps as <c>Name.entry.N.key</c> / <c>Name.entry.N.value</c>, N from 1.</summary>
    public QueryForm AddMap(string name, IReadOnlyDictionary<string, string> map)
    {
        var n = 1;
        foreach (var (key, value) in map.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            Add($"{name}.entry.{n}.key", key).Add($"{name}.entry.{n}.value", value);
            n++;
        }
        return this;
    }

    public FormUrlEncodedContent ToContent() => new(_fields);

    /// <summary>The first value of the field <paramref name="name"/>, or null.</summary>
    public string? Get(string name) => _fields.FirstOrDefault(f => f.Key == name).Value;
}
