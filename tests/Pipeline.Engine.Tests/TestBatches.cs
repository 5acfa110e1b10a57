using System.Text;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Generation;

namespace Pipeline.Engine.Tests;

/// <summary>Small hand-written batches (valid as given; tests change one thing) and generated ones.</summary>
internal static class TestBatches
{
    public const string OrdersHeader = "order_id,user_id,status,created_at,returned_at,shipped_at,delivered_at,num_of_item\n";
    public const string ItemsHeader = "id,order_id,user_id,product_id,status,created_at,shipped_at,delivered_at,returned_at,sale_price\n";

    public const string Products = """
        id,sku,cost,category,name,brand,retail_price,department
        1,SKU-1,5.5,Books,A book,Acme,12.5,Media
        2,SKU-2,3,Toys,A toy,Acme,7,Kids
        3,SKU-3,4,Books,Spare,Acme,9,Media

        """;

    public const string Orders = """
        order_id,user_id,status,created_at,returned_at,shipped_at,delivered_at,num_of_item
        1,10,delivered,2025-03-08T10:00:00,,2025-03-09T10:00:00,2025-03-10T10:00:00,2
        2,11,returned,2025-03-09T23:30:00,2025-03-15T10:00:00,2025-03-10T10:00:00,2025-03-11T10:00:00,1

        """;

    public const string Items = """
        id,order_id,user_id,product_id,status,created_at,shipped_at,delivered_at,returned_at,sale_price
        1,1,10,1,delivered,2025-03-08T10:05:00,,,,12.5
        2,1,10,2,delivered,2025-03-08T10:06:00,,,,7
        3,2,11,1,returned,2025-03-10T00:10:00,,,,12.5

        """;

    public static BatchInput InMemory(string? products = Products, string? orders = Orders, string? items = Items) =>
        InMemory(
            Parts(products, "products.csv", TableKind.Products),
            Parts(orders, "orders.csv", TableKind.Orders),
            Parts(items, "order_items.csv", TableKind.OrderItems));

    public static BatchInput InMemory(params IEnumerable<BatchPart>[] tables) => new([.. tables.SelectMany(parts => parts)]);

    public static BatchPart Part(string name, TableKind table, string content) => Part(name, table, Encoding.UTF8.GetBytes(content));

    public static BatchPart Part(string name, TableKind table, byte[] content) => BatchPart.FromBytes(name, table, content);

    /// <summary>A part stored gzipped: its name should end in <c>.csv.gz</c>.</summary>
    public static BatchPart Gzipped(string name, TableKind table, string content) =>
        Part(name, table, Compress(Encoding.UTF8.GetBytes(content), PartCompression.Gzip));

    /// <summary>The bytes compressed (a memory stream's bytes can be taken after the compressor has closed it).</summary>
    public static byte[] Compress(byte[] content, PartCompression compression)
    {
        var buffer = new MemoryStream();
        using (Stream output = PartFormat.Compress(buffer, compression))
        {
            output.Write(content);
        }
        return buffer.ToArray();
    }

    public static BatchResult Process(BatchInput batch, EngineOptions? options = null) => new BatchProcessor(options).Process(batch);

    /// <summary>A generated batch in a fresh temporary folder.</summary>
    public static string Generate(long orders, int parts, ulong seed = 7)
    {
        string directory = Path.Combine(Path.GetTempPath(), "pipeline-engine-tests", Guid.NewGuid().ToString("N"));
        SyntheticBatchGenerator.Generate(directory, new GeneratorOptions(orders, parts, seed, Days: 10, Products: 500));
        return directory;
    }

    private static BatchPart[] Parts(string? content, string name, TableKind table) =>
        content is null ? [] : [Part(name, table, content)];
}
