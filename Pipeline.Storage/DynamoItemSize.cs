using System.Text;
using Amazon.DynamoDBv2.Model;

namespace Pipeline.Storage;

/// <summary>
/// The size DynamoDB counts for an item against its 400 KB limit: attribute names and values (strings as UTF-8,
/// numbers by their significant digits, binaries by length), plus the few bytes each map, list and element costs.
/// </summary>
public static class DynamoItemSize
{
    /// <summary>DynamoDB's limit on the size of one item.</summary>
    public const int Limit = 400 * 1024;

    public static long Of(Dictionary<string, AttributeValue> item) => item.Sum(a => Encoding.UTF8.GetByteCount(a.Key) + Of(a.Value));

    public static long Of(AttributeValue value) => value switch
    {
        { S: { } s } => Encoding.UTF8.GetByteCount(s),
        { N: { } n } => NumberSize(n),
        { B: { } b } => b.Length,
        { IsMSet: true } => 3 + value.M.Sum(e => Encoding.UTF8.GetByteCount(e.Key) + Of(e.Value) + 1),
        { IsLSet: true } => 3 + value.L.Sum(e => Of(e) + 1),
        _ => 1,
    };

    /// <summary>About one byte per two significant digits, plus one.</summary>
    private static int NumberSize(string number)
    {
        var digits = number.TrimStart('-').Replace(".", "", StringComparison.Ordinal).Trim('0').Length;
        return 1 + ((Math.Max(digits, 1) + 1) / 2);
    }
}
