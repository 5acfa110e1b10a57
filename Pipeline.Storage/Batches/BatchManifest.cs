using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Engine.Csv;

namespace Pipeline.Storage.Batches;

/// <summary>
/// The manifest a batch writes last, in the old system's format:
/// <c>{"date":"20250409","files":{"orders":["orders_part1.csv"],"order_items":[...],"products":"optional key"}}</c>,
/// optionally with <c>"etags":{"orders/orders_part1.csv":"...", ...}</c>: the ETag S3 gave each file when it was
/// uploaded (<c>pipeline submit</c> writes them), so that the manifest's own ETag changes with the files' content and
/// Validate can confirm the files are the ones the manifest was written for.
/// </summary>
/// <param name="ETags">By file name within the batch folder (<c>orders/x.csv</c>, <c>products.csv</c>); empty when not given.</param>
public sealed record BatchManifest(string? Date, IReadOnlyList<string> Orders, IReadOnlyList<string> OrderItems, string? Products,
    IReadOnlyDictionary<string, string>? ETags = null)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Reads a manifest, or throws <see cref="BatchLayoutException"/> saying what is wrong with it.</summary>
    public static BatchManifest Parse(ReadOnlySpan<byte> utf8)
    {
        ManifestDocument? document;
        try
        {
            document = JsonSerializer.Deserialize<ManifestDocument>(utf8);
        }
        catch (JsonException e)
        {
            throw new BatchLayoutException($"the manifest is not valid JSON ({e.Message})");
        }

        if (document?.Files is not { } files)
        {
            throw new BatchLayoutException("the manifest has no \"files\" object (expected {\"files\":{\"orders\":[...],\"order_items\":[...]}})");
        }
        if (files.Orders is not { Count: > 0 } orders)
        {
            throw new BatchLayoutException("the manifest lists no orders files (\"files.orders\" is missing or empty)");
        }
        if (files.OrderItems is not { Count: > 0 } items)
        {
            throw new BatchLayoutException("the manifest lists no order items files (\"files.order_items\" is missing or empty)");
        }
        return new BatchManifest(document.Date, orders, items, files.Products, document.ETags);
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(
        new ManifestDocument(Date, new ManifestFiles(Orders.ToList(), OrderItems.ToList(), Products),
            ETags?.OrderBy(e => e.Key, StringComparer.Ordinal).ToDictionary()), Json);

    private sealed record ManifestDocument(
        [property: JsonPropertyName("date")] string? Date,
        [property: JsonPropertyName("files")] ManifestFiles? Files,
        [property: JsonPropertyName("etags")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Dictionary<string, string>? ETags = null);

    private sealed record ManifestFiles(
        [property: JsonPropertyName(TableNames.Orders)] List<string>? Orders,
        [property: JsonPropertyName(TableNames.OrderItems)] List<string>? OrderItems,
        [property: JsonPropertyName(TableNames.Products)][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Products);
}
