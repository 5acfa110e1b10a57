using Pipeline.Engine.Csv;
using Pipeline.Engine.Generation;

namespace Pipeline.Benchmarks;

/// <summary>Generated batches, kept between runs (generation is deterministic, so reuse is safe).</summary>
internal static class BenchmarkData
{
    /// <param name="compression">How the files are stored: the same rows either way.</param>
    public static string Ensure(DirectoryInfo root, long orders, int parts, PartCompression compression = PartCompression.None)
    {
        string stored = compression == PartCompression.None ? "" : PartFormat.ExtensionOf(compression).Replace('.', '-');
        string batch = Path.Combine(root.FullName, $"orders-{orders}-parts-{parts}{stored}");
        string marker = Path.Combine(batch, ".complete");
        if (!File.Exists(marker))
        {
            Console.WriteLine($"generating {orders} orders in {parts} parts into {batch} ...");
            if (Directory.Exists(batch))
            {
                Directory.Delete(batch, recursive: true);
            }

            GenerationSummary summary = SyntheticBatchGenerator.Generate(batch, new GeneratorOptions(orders, parts) { Compression = compression });
            Console.WriteLine($"generated {summary.Orders} orders, {summary.Items} items, {summary.Bytes / 1e6:F1} MB");
            File.WriteAllText(marker, "");
        }

        return batch;
    }
}
