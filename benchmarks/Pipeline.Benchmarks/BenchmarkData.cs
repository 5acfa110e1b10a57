using Pipeline.Engine.Generation;

namespace Pipeline.Benchmarks;

/// <summary>Generated batches, kept between runs (generation is deterministic, so reuse is safe).</summary>
internal static class BenchmarkData
{
    public static string Ensure(DirectoryInfo root, long orders, int parts)
    {
        string batch = Path.Combine(root.FullName, $"orders-{orders}-parts-{parts}");
        string marker = Path.Combine(batch, ".complete");
        if (!File.Exists(marker))
        {
            Console.WriteLine($"generating {orders} orders in {parts} parts into {batch} ...");
            if (Directory.Exists(batch))
            {
                Directory.Delete(batch, recursive: true);
            }

            GenerationSummary summary = SyntheticBatchGenerator.Generate(batch, new GeneratorOptions(orders, parts));
            Console.WriteLine($"generated {summary.Orders} orders, {summary.Items} items, {summary.Bytes / 1e6:F1} MB");
            File.WriteAllText(marker, "");
        }

        return batch;
    }
}
