using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Storage.Batches;

/// <summary>
/// The manifest a batch writes last, in the old system's format:
/// <c>{"date":"20250409","files":{"orders":["orders_part1.csv"],"order_items":[...],"products":"optional key"}}</c>.
/// </summary>
public sealed record BatchManifest(string? Date, IReadOnlyList<string> Orders, IReadOnlyList<string> OrderItems, string? Products)
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
        return new BatchManifest(document.Date, orders, items, files.Products);
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(
        new ManifestDocument(Date, new ManifestFiles(Orders.ToList(), OrderItems.ToList(), Products)), Json);

    private sealed record ManifestDocument(
        [property: JsonPropertyName("date")] string? Date,
        [property: JsonPropertyName("files")] ManifestFiles? Files);

    private sealed record ManifestFiles(
        [property: JsonPropertyName("orders")] List<string>? Orders,
        [property: JsonPropertyName("order_items")] List<string>? OrderItems,
        [property: JsonPropertyName("products")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Products);
}
