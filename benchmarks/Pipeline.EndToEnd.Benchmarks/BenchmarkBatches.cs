using System.Globalization;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Generation;
using Pipeline.Testing;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>The batch folders the benchmark sends: copies of the seed data with order ids of their own, and generated batches.</summary>
internal static class BenchmarkBatches
{
    /// <summary>Ids far apart enough that no copy's orders or items meet another's (the seed data has 9,000 orders and 27,007 items).</summary>
    public const long IdsPerCopy = 100_000_000;

    /// <summary>The seed data (<c>../shared/seed-data</c>), or where a fresh clone has none, "generated".</summary>
    public static string SeedSource => SeedData.Directory ?? "generated (9,000 orders over 31 days; no ../shared/seed-data)";

    /// <summary>
    /// Copy <paramref name="copy"/> of the seed batch: the seed data with its order and item ids moved up by
    /// <paramref name="copy"/> × <see cref="IdsPerCopy"/> (the same orders twice would be refused as counted already), or
    /// without the seed data a generated batch of its shape (9,000 orders from 8 March 2025 over 31 days, 6 parts).
    /// </summary>
    public static string SeedCopy(int copy) => SeedData.Directory is { } seed
        ? WithIdsMovedBy(seed, copy * IdsPerCopy)
        : Generate(9_000, new DateOnly(2025, 3, 8), seed: 1, days: 31, parts: 6, idOffset: copy * IdsPerCopy);

    public static string Generate(
        long orders, DateOnly firstDay, ulong seed, int days, int parts, long idOffset, PartCompression compression = PartCompression.None)
    {
        var folder = Directory.CreateTempSubdirectory("pipeline-e2e-bench-").FullName;
        SyntheticBatchGenerator.Generate(folder, new GeneratorOptions(orders, parts, seed, days)
        {
            FirstDay = firstDay,
            IdOffset = idOffset,
            Compression = compression,
        });
        return folder;
    }

    /// <summary>A copy of a batch folder whose order ids and order item ids are all moved up by <paramref name="offset"/>.</summary>
    private static string WithIdsMovedBy(string folder, long offset)
    {
        var copy = Directory.CreateTempSubdirectory("pipeline-e2e-bench-").FullName;
        File.Copy(Path.Combine(folder, "products.csv"), Path.Combine(copy, "products.csv"));
        foreach (var (table, idColumns) in new[] { ("orders", new[] { 0 }), ("order_items", new[] { 0, 1 }) })
        {
            Directory.CreateDirectory(Path.Combine(copy, table));
            foreach (var file in Directory.GetFiles(Path.Combine(folder, table), "*.csv"))
            {
                var lines = File.ReadAllLines(file);
                for (var i = 1; i < lines.Length; i++)
                {
                    var fields = lines[i].Split(',');
                    foreach (var column in idColumns)
                    {
                        fields[column] = (long.Parse(fields[column], CultureInfo.InvariantCulture) + offset).ToString(CultureInfo.InvariantCulture);
                    }
                    lines[i] = string.Join(',', fields);
                }
                File.WriteAllLines(Path.Combine(copy, table, Path.GetFileName(file)), lines);
            }
        }
        return copy;
    }
}
