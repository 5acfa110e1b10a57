using System.Text;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;

namespace Pipeline.Engine.Tests;

/// <summary>BOM, CRLF, quoting, reordered and extra columns change nothing in the results.</summary>
public sealed class InputFormatTests : IClassFixture<GeneratedBatch>
{
    private readonly GeneratedBatch _generated;

    public InputFormatTests(GeneratedBatch generated) => _generated = generated;

    [Fact]
    public void Bom_crlf_quotes_reordered_and_extra_columns_give_identical_results()
    {
        BatchInput plain = LocalBatchFolder.Open(_generated.Directory);
        BatchInput reshaped = new([.. plain.Parts.Select(Reshape)]);

        BatchResult expected = new BatchProcessor().Process(plain);
        BatchResult actual = new BatchProcessor().Process(reshaped);

        Assert.True(actual.Accepted, string.Join("\n", actual.Report.Errors));
        Assert.Equal(expected.Report.RowsRead, actual.Report.RowsRead);
        Assert.Equal(KpiTests.Csv(expected.Kpis!), KpiTests.Csv(actual.Kpis!));
    }

    [Fact]
    public void Single_orders_and_items_files_are_found_like_folders_of_parts()
    {
        string directory = Path.Combine(Path.GetTempPath(), "pipeline-engine-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            File.WriteAllText(Path.Combine(directory, "products.csv"), TestBatches.Products);
            File.WriteAllText(Path.Combine(directory, "orders.csv"), TestBatches.Orders);
            File.WriteAllText(Path.Combine(directory, "order_items.csv"), TestBatches.Items);

            BatchInput batch = LocalBatchFolder.Open(directory);

            Assert.Equal(["products.csv", "orders.csv", "order_items.csv"], batch.Parts.Select(part => part.Name));
            Assert.Equal(KpiTests.Csv(KpiTests.Accepted(TestBatches.InMemory())), KpiTests.Csv(KpiTests.Accepted(batch)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Parts_are_listed_in_natural_order()
    {
        BatchInput batch = LocalBatchFolder.Open(_generated.Directory);
        Assert.Equal(
            ["orders/orders_part1.csv", "orders/orders_part2.csv", "orders/orders_part3.csv", "orders/orders_part4.csv"],
            batch.Parts.Where(part => part.Table == TableKind.Orders).Select(part => part.Name));
    }

    /// <summary>
    /// The same table written differently: columns reversed, an extra quoted column with a comma,
    /// every status quoted, CRLF line ends and a UTF-8 byte order mark.
    /// </summary>
    private static BatchPart Reshape(BatchPart part)
    {
        using var reader = new StreamReader(part.Open());
        string[] lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var text = new StringBuilder();
        for (int index = 0; index < lines.Length; index++)
        {
            IEnumerable<string> fields = lines[index].Split(',').Reverse()
                .Select(field => field is "delivered" or "returned" or "shipped" or "pending" ? $"\"{field}\"" : field)
                .Append(index == 0 ? "note" : "\"free text, with a comma\"");
            text.Append(string.Join(',', fields)).Append("\r\n");
        }

        byte[] content = [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(text.ToString())];
        return BatchPart.FromBytes(part.Name, part.Table, content);
    }
}
