using Pipeline.Testing;
using Pipeline.Topology;
using static Benchmarks.Figures;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>
/// What the curated Parquet costs (docs/pipeline.md, "Curated Parquet"): the large batch end to end on a freshly started
/// app with Compute's curated output off (<c>Curated__Enabled=false</c>), then on another with it on, each after one
/// untimed seed batch (the services warm, as in the latency mode), <see cref="Pairs"/> times alternated; the median time
/// with it against the median without (target: at most 1.2x: one run's time varies between runs almost as much as the
/// Parquet adds), and the bytes of the batch's Parquet under <c>curated/</c> against its order_items CSV (target: at most a third).
/// </summary>
internal static class CuratedParquetBenchmark
{
    private const double TimeTarget = 1.2;
    private const double SizeTarget = 1.0 / 3;
    private const string Batch = "bench-curated";
    private const int Pairs = 3;

    public static async Task RunAsync(long orders, BenchmarkReport report)
    {
        // Days and ids of their own, as the latency mode's large batch; the same folder in both apps (each starts empty).
        var folder = BenchmarkBatches.Generate(orders, new DateOnly(2027, 1, 1), seed: 7, days: 31, parts: 8, idOffset: 20 * BenchmarkBatches.IdsPerCopy);
        var warm = BenchmarkBatches.SeedCopy(1);
        var csvBytes = Directory.EnumerateFiles(Path.Combine(folder, "order_items"), "*.csv").Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"large batch: {orders:N0} orders, {csvBytes / 1e6:F0} MB of order_items CSV");

        var times = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        foreach (var curated in Enumerable.Range(0, Pairs).SelectMany(_ => new[] { false, true }))
        {
            await using var pipeline = await EndToEndBenchmark.StartAsync(null, 1, report, curated);
            await EndToEndBenchmark.SubmitAndWaitAsync(pipeline, warm, "bench-curated-warm", null);
            var measured = await EndToEndBenchmark.SubmitAndWaitAsync(pipeline, folder, Batch, null);
            times[curated].Add(measured.Latency.TotalSeconds);
            report.Figure($"{orders:N0} orders end to end, curated Parquet {(curated ? "on" : "off")}", $"{measured.Latency.TotalSeconds:F1} s",
                measured.Breakdown());
            if (curated && times[curated].Count == Pairs)
            {
                var (objects, parquetBytes) = await CuratedBytesAsync(pipeline);
                var share = (double)parquetBytes / csvBytes;
                report.Figure("curated Parquet size", $"{parquetBytes / 1e6:F1} MB, {share:P1} of the order_items CSV",
                    $"{objects} objects (one a day); {csvBytes / 1e6:F1} MB of CSV", "<= 1/3 of the CSV", share <= SizeTarget);
            }
        }
        var (on, off) = (Median(times[true]), Median(times[false]));
        var ratio = on / off;
        report.Figure("curated Parquet's cost end to end", $"{ratio:F2}x the batch without it",
            $"median of {Pairs} runs each: {on:F1} s against {off:F1} s", $"<= {TimeTarget}x", ratio <= TimeTarget);
        Directory.Delete(folder, recursive: true);
        Directory.Delete(warm, recursive: true);
    }

    /// <summary>The batch's objects under curated/ and their bytes.</summary>
    private static async Task<(int Objects, long Bytes)> CuratedBytesAsync(RunningPipeline pipeline)
    {
        var parquet = (await pipeline.Driver.ObjectsUnderAsync(PipelineTopology.CuratedOrderItems.Prefix))
            .Where(o => o.Key.EndsWith($"/{Batch}.parquet", StringComparison.Ordinal))
            .ToList();
        return (parquet.Count, parquet.Sum(o => o.Size ?? 0));
    }
}
