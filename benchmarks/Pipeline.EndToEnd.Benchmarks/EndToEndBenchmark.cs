using System.Diagnostics;
using System.Globalization;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.Generation;
using Pipeline.Storage.Runs;
using Pipeline.Testing;
using static Benchmarks.Figures;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>
/// Times the running pipeline from submit (upload + BatchSubmitted) to the Succeeded alert: the first batch after
/// start-up (the seed data, target: at most 3 s), then the seed data ten times more, each time with order ids of its own
/// (the same orders twice would be refused as counted already; target: median at most 1 s), one generated batch of 1M
/// orders (target: at most 30 s) and a new version of it replacing it (target: about what the first cost), with the run
/// record's stage timings to show where the time goes and the share of the order key check (target: at most 10 %).
/// Every figure is printed with the load average, as the machine may be shared. The services' spans go to a receiver
/// in this process, which shows where the first batch's time went (AWS calls against the rest, per stage).
/// </summary>
internal static class EndToEndBenchmark
{
    private const int SeedRuns = 10;
    private static readonly TimeSpan FirstBatchTarget = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan SeedTarget = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LargeTarget = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan AlertTimeout = TimeSpan.FromMinutes(5);

    /// <param name="args">
    /// <c>[--orders N]</c>: size of the large batch (default 1,000,000); <c>--seed-only</c>: no large batch; <c>--calls</c>: only
    /// the first seed batch and one warm one, for the services' AWS calls of a seed batch (per operation, from their spans).
    /// </param>
    public static async Task<int> RunAsync(string[] args)
    {
        var callsOnly = args.Contains("--calls");
        var seedOnly = callsOnly || args.Contains("--seed-only");
        long largeOrders = args.SkipWhile(a => a != "--orders").Skip(1).FirstOrDefault() is { } n ? long.Parse(n, CultureInfo.InvariantCulture) : 1_000_000;
        Console.WriteLine($"load average before start: {LoadAverage()} ({Environment.ProcessorCount} cores); services built {BuildConfiguration()}");

        var started = Stopwatch.StartNew();
        await using var pipeline = await RunningPipeline.StartAsync();
        Console.WriteLine($"AppHost healthy in {started.Elapsed.TotalSeconds:F1} s; load average {LoadAverage()}");

        var seedMet = await SeedBatchesAsync(pipeline, callsOnly ? 1 : SeedRuns);
        var largeMet = seedOnly || await LargeBatchAsync(pipeline, largeOrders);
        Console.WriteLine($"load average at the end: {LoadAverage()}");
        return seedMet && largeMet ? 0 : 2;
    }

    /// <summary>Debug or Release: the services are built with this benchmark (their project references), in its configuration.</summary>
    private static string BuildConfiguration() =>
        typeof(EndToEndBenchmark).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .OfType<System.Reflection.AssemblyConfigurationAttribute>().FirstOrDefault()?.Configuration ?? "unknown";

    private static async Task<bool> SeedBatchesAsync(RunningPipeline pipeline, int warmRuns)
    {
        var seed = SeedData.Directory;
        var folders = Enumerable.Range(0, warmRuns + 1).Select(run => seed is null
            ? Generate(9_000, new DateOnly(2025, 3, 8), seed: 1, days: 31, parts: 6, idOffset: run * IdsPerRun)
            : WithIdsMovedBy(seed, run * IdsPerRun)).ToList();
        Console.WriteLine($"seed batch: {seed ?? "generated"}, with order and item ids moved up by {IdsPerRun:N0} a run");
        // The first batch after start-up pays for whatever the services did not do before they said they were healthy.
        var first = await SubmitAndWaitAsync(pipeline, folders[0], "bench-seed-first");
        var firstMet = first.Latency <= FirstBatchTarget;
        Console.WriteLine($"first batch after start-up: {first.Latency.TotalMilliseconds:F0} ms " +
            $"(target <= {FirstBatchTarget.TotalSeconds:F0} s: {(firstMet ? "met" : "MISSED")}; load {LoadAverage()}) ({first.Breakdown()})");
        await pipeline.ReportSpansAsync("bench-seed-first");
        var latencies = new List<TimeSpan>();
        for (var run = 1; run <= warmRuns; run++)
        {
            var measured = await SubmitAndWaitAsync(pipeline, folders[run], $"bench-seed-{run:D2}");
            latencies.Add(measured.Latency);
            Console.WriteLine($"  {measured.Run.BatchId}: submit -> Succeeded alert {measured.Latency.TotalMilliseconds:F0} ms ({measured.Breakdown()})");
        }

        folders.ForEach(f => Directory.Delete(f, recursive: true));
        var median = Median(latencies);
        var met = median <= SeedTarget;
        Console.WriteLine($"warm seed batches x{warmRuns}: median {median.TotalMilliseconds:F0} ms, " +
            $"min {latencies.Min().TotalMilliseconds:F0} ms, max {latencies.Max().TotalMilliseconds:F0} ms " +
            $"(target <= {SeedTarget.TotalSeconds:F0} s: {(met ? "met" : "MISSED")}; load {LoadAverage()})");
        await pipeline.ReportSpansAsync($"bench-seed-{warmRuns:D2}");
        return met && firstMet;
    }

    private static async Task<bool> LargeBatchAsync(RunningPipeline pipeline, long orders)
    {
        // Dates of their own (2027), so this batch touches no day of the seed batches.
        var generating = Stopwatch.StartNew();
        var ids = SeedRuns * IdsPerRun + IdsPerRun;
        var folder = Generate(orders, new DateOnly(2027, 1, 1), seed: 7, days: 31, parts: 8, idOffset: ids);
        // The same orders corrected: another draw of the generator over the same ids.
        var corrected = Generate(orders, new DateOnly(2027, 1, 1), seed: 8, days: 31, parts: 8, idOffset: ids);
        var bytes = Directory.EnumerateFiles(folder, "*.csv", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"large batch: {orders:N0} orders, {bytes / 1e6:F0} MB of CSV, generated in {generating.Elapsed.TotalSeconds:F1} s (not timed)");

        var measured = await SubmitAndWaitAsync(pipeline, folder, "bench-large");
        var met = measured.Latency <= LargeTarget;
        Console.WriteLine($"large batch end to end: {measured.Latency.TotalSeconds:F1} s " +
            $"(target <= {LargeTarget.TotalSeconds:F0} s: {(met ? "met" : "MISSED")}; load {LoadAverage()})");
        Report(measured);
        var keyCheck = TimeSpan.FromMilliseconds(measured.Run.Stages[Stages.Validate].Counts.GetValueOrDefault("key_check_ms"));
        var keyShare = keyCheck / measured.Latency;
        Console.WriteLine($"  order key check: {keyCheck.TotalSeconds:F2} s, {keyShare:P1} of the batch end to end " +
            $"(target <= 10 %: {(keyShare <= 0.10 ? "met" : "MISSED")})");

        var replacement = await SubmitAndWaitAsync(pipeline, corrected, "bench-large");
        var ratio = replacement.Latency / measured.Latency;
        Console.WriteLine($"replacing it with a new version of {orders:N0} orders: {replacement.Latency.TotalSeconds:F1} s, {ratio:F2}x the first " +
            $"(target: about the same, <= 1.2x: {(ratio <= 1.2 ? "met" : "MISSED")}; load {LoadAverage()})");
        Report(replacement);
        Directory.Delete(folder, recursive: true);
        Directory.Delete(corrected, recursive: true);
        return met && keyShare <= 0.10 && ratio <= 1.2;
    }

    private static void Report(Measurement measured)
    {
        Console.WriteLine($"  {measured.Breakdown()}");
        foreach (var (stage, record) in measured.Run.Stages.Where(s => s.Value.Counts.Count > 0).OrderBy(s => s.Value.StartedAt))
        {
            Console.WriteLine($"  {stage}: {string.Join(", ", record.Counts.Select(c => $"{c.Key} {c.Value:N0}"))}");
        }
    }

    /// <summary>Ids far apart enough that no run's orders or items meet another's (the seed data has 9,000 orders and 27,007 items).</summary>
    private const long IdsPerRun = 100_000_000;

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

    /// <summary>Submits, waits for the alert, and reads the run record (written before the alert is sent).</summary>
    private static async Task<Measurement> SubmitAndWaitAsync(RunningPipeline pipeline, string folder, string name)
    {
        var clock = Stopwatch.StartNew();
        await pipeline.SubmitAsync(folder, name);
        var upload = clock.Elapsed;
        var alert = await pipeline.NextAlertAsync(name, AlertTimeout);
        var latency = clock.Elapsed;
        if (alert.Status != AlertStatus.Succeeded)
        {
            throw new InvalidOperationException($"{name}: {alert.Status}: {alert.Subject}: {alert.Summary}");
        }

        var run = (await pipeline.Runs.GetHistoryAsync(name, CancellationToken.None))?.Latest
            ?? throw new InvalidOperationException($"{name}: no run record");
        return new Measurement(latency, upload, run);
    }

    /// <param name="Upload">
    /// Upload and publish, as <c>pipeline submit</c> does them: not in the run record, which begins when Validate takes the message.
    /// </param>
    private sealed record Measurement(TimeSpan Latency, TimeSpan Upload, PipelineRun Run)
    {
        /// <summary>"upload 0.31 s, validate 0.52 s, ...; waiting in queues 0.20 s": where the time went.</summary>
        public string Breakdown()
        {
            var stages = Run.Stages.OrderBy(s => s.Value.StartedAt)
                .Select(s => (s.Key, Took: (s.Value.FinishedAt ?? s.Value.StartedAt) - s.Value.StartedAt)).ToList();
            var between = Latency - Upload - stages.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Took);
            return $"upload {Upload.TotalSeconds:F2} s, {string.Join(", ", stages.Select(s => $"{s.Key} {s.Took.TotalSeconds:F2} s"))}; " +
                $"between stages (queues, alert delivery) {between.TotalSeconds:F2} s";
        }
    }

    private static string Generate(long orders, DateOnly firstDay, ulong seed, int days, int parts, long idOffset)
    {
        var folder = Directory.CreateTempSubdirectory("pipeline-e2e-bench-").FullName;
        SyntheticBatchGenerator.Generate(folder, new GeneratorOptions(orders, parts, seed, days) { FirstDay = firstDay, IdOffset = idOffset });
        return folder;
    }
}
