using System.Diagnostics;
using System.Globalization;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Generation;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Kpis;
using static Benchmarks.Figures;

namespace Pipeline.Storage.Benchmarks;

/// <summary>
/// Times what Compute does with the KPI store (write a version's contribution, fold the batch) on dynalite:
/// <list type="number">
/// <item>seed-sized batches (9,000 orders over the same 31 days), one after the other: the 200th against the first
/// (target: at most 1.5 times), since a fold must not re-read the other batches of its days;</item>
/// <item>a large batch (1,000,000 orders) folded in, then replaced by a new version of the same size: the replacement
/// takes the old version out as it puts the new one in, so its fold may cost up to twice the first (target: at most
/// 2x); end to end, where reading and validating the files dominate, the end-to-end benchmark compares the two.</item>
/// </list>
/// </summary>
internal static class KpiFoldBenchmark
{
    /// <param name="args">
    /// <c>[--batches N] [--large-orders N]</c>; <c>--calls</c>: count the requests instead (<see cref="FoldCallCounts"/>);
    /// <c>--limits [N]</c>: fold N (20,000) batches into one day instead (<see cref="KpiLimitsBenchmark"/>);
    /// <c>--year</c>: fold a year of a large shop and measure what it costs (<see cref="YearBenchmark"/>);
    /// <c>--anomalies</c>: what the anomaly check adds to a seed-sized batch's fold (<see cref="AnomalyCheckBenchmark"/>).
    /// </param>
    public static async Task<int> RunAsync(string[] args)
    {
        Console.WriteLine($"load average before start: {LoadAverage()} ({Environment.ProcessorCount} cores)");
        await using var emulators = await StorageEmulators.StartAsync();
        if (args.Contains("--calls"))
        {
            await FoldCallCounts.RunAsync(emulators);
            Console.WriteLine($"load average at the end: {LoadAverage()}");
            return 0;
        }
        if (args.Contains("--anomalies"))
        {
            var checkMet = await AnomalyCheckBenchmark.RunAsync(emulators);
            Console.WriteLine($"load average at the end: {LoadAverage()}");
            return checkMet ? 0 : 2;
        }
        if (args.Contains("--year"))
        {
            return await YearBenchmark.RunAsync(emulators, args);
        }
        if (args.Contains("--limits"))
        {
            var limitsMet = await KpiLimitsBenchmark.RunAsync(emulators, Option(args, "--limits", 20_000));
            Console.WriteLine($"load average at the end: {LoadAverage()}");
            return limitsMet ? 0 : 2;
        }

        var batches = Option(args, "--batches", 200);
        var largeOrders = Option(args, "--large-orders", 1_000_000);
        using var dynamoDb = emulators.CreateDynamoDb();
        var store = new DynamoKpiStore(dynamoDb, emulators.Topology, TimeProvider.System);

        var sameDays = await SameDaysAsync(store, batches);
        var replacement = await ReplacementAsync(store, largeOrders);
        Console.WriteLine($"load average at the end: {LoadAverage()}");
        return sameDays && replacement ? 0 : 2;
    }

    private static async Task<bool> SameDaysAsync(DynamoKpiStore store, int batches)
    {
        Console.WriteLine($"{batches} seed-sized batches (9,000 orders each) on the same 31 days, folded one after the other:");
        var times = new List<TimeSpan>();
        for (var i = 1; i <= batches; i++)
        {
            var data = Partial(9_000, seed: (ulong)i, days: 31);
            var clock = Stopwatch.StartNew();
            await store.AddBatchAsync($"same-days-{i:D3}", 1, data, CancellationToken.None);
            times.Add(clock.Elapsed);
            if (i is 1 or 10 or 50 or 100 or 150 || i == batches)
            {
                Console.WriteLine($"  batch {i,3}: {clock.Elapsed.TotalMilliseconds,6:F0} ms (load {LoadAverage()})");
            }
        }

        // Medians of ten, so one slow moment of a shared machine does not decide.
        var first = Median(times.Take(10));
        var last = Median(times.TakeLast(10));
        var ratio = last / first;
        var met = ratio <= 1.5;
        Console.WriteLine($"  median of batches 1-10 {first.TotalMilliseconds:F0} ms, of batches {batches - 9}-{batches} {last.TotalMilliseconds:F0} ms: " +
            $"{ratio:F2}x (target <= 1.5x: {(met ? "met" : "MISSED")})");
        return met;
    }

    private static async Task<bool> ReplacementAsync(DynamoKpiStore store, int orders)
    {
        var first = Partial(orders, seed: 1_001, days: 31, firstDay: new DateOnly(2027, 1, 1));
        var second = Partial(orders, seed: 1_002, days: 31, firstDay: new DateOnly(2027, 1, 1));
        Console.WriteLine($"a batch of {orders:N0} orders, then a new version of it of the same size:");
        var clock = Stopwatch.StartNew();
        await store.AddBatchAsync("large", 1, first, CancellationToken.None);
        var upload = clock.Elapsed;
        Console.WriteLine($"  first upload folded in: {upload.TotalSeconds:F2} s (load {LoadAverage()})");
        clock.Restart();
        var fold = await store.AddBatchAsync("large", 2, second, CancellationToken.None);
        var replace = clock.Elapsed;
        var ratio = replace / upload;
        var met = ratio <= 2 && fold.AppliedVersion == 2;
        Console.WriteLine($"  replacement folded in: {replace.TotalSeconds:F2} s, {ratio:F2}x the first " +
            $"(target <= 2x: {(met ? "met" : "MISSED")}; load {LoadAverage()})");
        return met;
    }

    /// <summary>The KPI partial of a generated batch, as Compute gets it.</summary>
    public static KpiPartial Partial(long orders, ulong seed, int days, DateOnly? firstDay = null)
    {
        var folder = Directory.CreateTempSubdirectory("pipeline-fold-bench-").FullName;
        try
        {
            SyntheticBatchGenerator.Generate(
                folder, new GeneratorOptions(orders, Parts: 4, Seed: seed, Days: days) { FirstDay = firstDay ?? new DateOnly(2025, 3, 8) });
            return new BatchProcessor().Process(LocalBatchFolder.Open(folder)).Kpis!;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
