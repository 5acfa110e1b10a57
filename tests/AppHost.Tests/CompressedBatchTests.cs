using System.Globalization;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Validation;
using Pipeline.Storage.Batches;

namespace AppHost.Tests;

/// <summary>
/// Batches with compressed parts through the running pipeline: read from S3 as they stream, counted as their plain twins
/// would be, and a truncated part rejected with an alert naming the file and where it ends.
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class CompressedBatchTests(EmulatorAppFixture app) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task A_batch_of_gzip_zstd_and_plain_parts_gives_the_kpis_of_its_plain_twin()
    {
        var ids = PipelineDriver.NewIds();
        var plain = PipelineDriver.Generate(3_000, new DateOnly(2015, 2, 1), seed: 91, days: 3, idOffset: ids);
        var mixed = PipelineDriver.Generate(3_000, new DateOnly(2015, 2, 1), seed: 91, days: 3, idOffset: ids, compression: PartCompression.Gzip);
        // The products plain, one items part in Zstandard, the rest gzipped.
        File.Delete(Path.Combine(mixed, "products.csv.gz"));
        File.Copy(Path.Combine(plain, "products.csv"), Path.Combine(mixed, "products.csv"));
        var zstdPart = Path.Combine(mixed, "order_items", "order_items_part2.csv.zst");
        using (var output = PartFormat.Compress(File.Create(zstdPart), PartCompression.Zstd))
        using (var input = File.OpenRead(Path.Combine(plain, "order_items", "order_items_part2.csv")))
        {
            input.CopyTo(output);
        }
        File.Delete(Path.Combine(mixed, "order_items", "order_items_part2.csv.gz"));

        await _pipeline.SubmitAsync(mixed, "compressed-mixed");
        var alert = await _pipeline.NextAlertAsync("compressed-mixed");

        Assert.Equal(AlertStatus.Succeeded, alert.Status);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(plain));
        Assert.Equal(
            ["manifest_compressed-mixed.json", "order_items/order_items_part1.csv.gz", "order_items/order_items_part2.csv.zst",
             "order_items/order_items_part3.csv.gz", "orders/orders_part1.csv.gz", "orders/orders_part2.csv.gz", "orders/orders_part3.csv.gz",
             "products.csv", BatchLayout.ReportName],
            (await _pipeline.KeysUnderAsync("processed/compressed-mixed/v1/")).Select(key => key["processed/compressed-mixed/v1/".Length..])
                .Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_truncated_gzip_part_is_rejected_once_with_an_alert_naming_the_file_the_rule_and_the_byte_offset()
    {
        var folder = PipelineDriver.Generate(2_000, new DateOnly(2015, 6, 1), seed: 92, days: 3, compression: PartCompression.Gzip);
        var part = Path.Combine(folder, "orders", "orders_part2.csv.gz");
        var bytes = File.ReadAllBytes(part);
        File.WriteAllBytes(part, bytes[..(bytes.Length / 2)]);

        await _pipeline.SubmitAsync(folder, "compressed-truncated");
        var alert = await _pipeline.NextAlertAsync("compressed-truncated");

        Assert.Equal((AlertStatus.Rejected, (int?)1), (alert.Status, alert.Version));
        Assert.Contains("orders/orders_part2.csv.gz line ", alert.Summary);
        var end = (bytes.Length / 2).ToString("N0", CultureInfo.InvariantCulture);
        Assert.Contains($"[{ValidationRule.CorruptCompressed}] The gzip data ends at byte {end} of the file", alert.Summary);
        Assert.Contains("errors/compressed-truncated/v1/orders/orders_part2.csv.gz", await _pipeline.KeysUnderAsync("errors/compressed-truncated/v1/"));
        await _pipeline.AssertNoAlertAboutAsync("compressed-truncated");
    }
}
