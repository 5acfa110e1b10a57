using System.Diagnostics;
using Benchmarks;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;
using Pipeline.Testing;
using Pipeline.Testing.Aws;
using static Benchmarks.Figures;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>
/// Times the running pipeline from submit (upload + BatchSubmitted, as <c>pipeline submit</c> does) to the Succeeded
/// alert: the first batch after start-up (the seed data), the seed data ten times more, each time with order ids of its
/// own (the same orders twice would be refused as counted already), one generated batch of 1M orders and a new version
/// replacing it, with the run record's stage timings to show where the time goes and the share of the order key check.
/// With <c>--aws-latency</c> every AWS call of the services waits as long as it would in AWS (<see cref="AwsLatencyPlan"/>).
/// The KPIs stored are checked against the engine's on the same files. The small-batches mode is
/// <see cref="SmallBatchesBenchmark"/>.
/// </summary>
internal static class EndToEndBenchmark
{
    private const int SeedRuns = 10;
    private const int CliRuns = 5;
    private static readonly TimeSpan FirstBatchTarget = TimeSpan.FromSeconds(2.5);
    private static readonly TimeSpan SeedTarget = TimeSpan.FromSeconds(0.8);
    private static readonly TimeSpan SeedWithLatencyTarget = TimeSpan.FromSeconds(2.5);
    private static readonly TimeSpan CliSubmitTarget = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan MillionTarget = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan AlertTimeout = TimeSpan.FromMinutes(15);

    public static async Task<int> RunAsync(EndToEndOptions options, CancellationToken cancellationToken)
    {
        await using var report = new BenchmarkReport(options);
        report.PrintConditions();
        if (options.SmallBatches is { } count)
        {
            await SmallBatchesBenchmark.RunAsync(count, options.Replicas is { } replicas ? [replicas] : [1, 2], options.AwsLatency, report, cancellationToken);
        }
        else if (options.Parquet)
        {
            await CuratedParquetBenchmark.RunAsync(options.LargeOrders, report);
        }
        else
        {
            await LatencyAsync(options, report);
        }
        report.PrintSummary();
        return report.AllTargetsMet ? 0 : 2;
    }

    /// <summary>The AppHost started on the emulators, with the AWS proxy between its services and the emulators when there is one.</summary>
    /// <param name="curated">Whether Compute writes the curated Parquet (<c>Curated:Enabled</c>).</param>
    public static async Task<RunningPipeline> StartAsync(AwsProxy? proxy, int replicas, BenchmarkReport report, bool curated = true)
    {
        var started = Stopwatch.StartNew();
        var pipeline = await RunningPipeline.StartAsync(proxy, replicas, AlertTimeout, curated);
        report.Figure(replicas == 1 ? "AppHost healthy" : $"AppHost healthy, {replicas} replicas", $"{started.Elapsed.TotalSeconds:F1} s");
        return pipeline;
    }

    private static async Task LatencyAsync(EndToEndOptions options, BenchmarkReport report)
    {
        var latency = options.AwsLatency ? new AwsLatencyPlan() : null;
        await using var proxy = latency is null ? null : await AwsProxy.StartAsync(latency);
        await using var pipeline = await StartAsync(proxy, options.Replicas ?? 1, report);
        await SeedBatchesAsync(pipeline, options.Calls ? 1 : SeedRuns, options.Calls ? 0 : CliRuns, latency, report);
        if (!options.SeedOnly && !options.Calls)
        {
            var large = await LargeBatchAsync(pipeline, options.LargeOrders, latency, report);
            if (options.Gzip)
            {
                await GzippedBatchAsync(pipeline, options.LargeOrders, large, latency, report);
            }
        }
    }

    private static async Task SeedBatchesAsync(RunningPipeline pipeline, int warmRuns, int cliRuns, AwsLatencyPlan? latency, BenchmarkReport report)
    {
        var folders = Enumerable.Range(0, warmRuns + cliRuns + 1).Select(BenchmarkBatches.SeedCopy).ToList();
        Console.WriteLine($"seed batch: {BenchmarkBatches.SeedSource}, with order and item ids moved up by {BenchmarkBatches.IdsPerCopy:N0} a copy");
        // The first batch after start-up pays for whatever the services did not do before they said they were healthy.
        var first = await SubmitAndWaitAsync(pipeline, folders[0], "bench-seed-first", latency);
        report.Figure("first batch after start-up", $"{first.Latency.TotalSeconds:F2} s", first.Breakdown(),
            latency is null ? $"<= {FirstBatchTarget.TotalSeconds} s" : null, latency is null ? first.Latency <= FirstBatchTarget : null);
        first.PrintCalls();
        await pipeline.ReportSpansAsync("bench-seed-first");
        var runs = new List<Measurement>();
        for (var run = 1; run <= warmRuns; run++)
        {
            var measured = await SubmitAndWaitAsync(pipeline, folders[run], $"bench-seed-{run:D2}", latency);
            runs.Add(measured);
            Console.WriteLine($"  {measured.Run.BatchId}: submit -> Succeeded alert {measured.Latency.TotalMilliseconds:F0} ms ({measured.Breakdown()})");
        }

        var latencies = runs.Select(r => r.Latency).ToList();
        var median = Median(latencies);
        var target = latency is null ? SeedTarget : SeedWithLatencyTarget;
        report.Figure($"warm seed batches, median of {warmRuns}", $"{median.TotalSeconds:F2} s",
            $"min {latencies.Min().TotalSeconds:F2} s, max {latencies.Max().TotalSeconds:F2} s", $"<= {target.TotalSeconds} s", median <= target);
        runs[^1].PrintCalls();
        await pipeline.ReportSpansAsync($"bench-seed-{warmRuns:D2}");
        await AnomalyChecksAsync(pipeline, runs.Select(r => r.Run.BatchId).ToList(), report);
        var sent = cliRuns > 0 ? await CliSubmitsAsync(pipeline, folders[(warmRuns + 1)..], latency, report) : 0;
        // Only the batches sent: without the installed command the command's batches never went in.
        await CheckKpisAsync(pipeline, "seed batches' KPIs", PipelineDriver.EngineKpis([.. folders[..(warmRuns + 1 + sent)]]), report);
        folders.ForEach(f => Directory.Delete(f, recursive: true));
    }

    /// <summary>
    /// The Notifier's anomaly check of each warm seed batch against the same batch's Compute stage, from their spans: the
    /// check's time, calls and round trips, and its share of the stage's time, median over the batches. Target: at most 5 %.
    /// The check runs in the Notifier once the stage is done, before the outcome's alert.
    /// </summary>
    private static async Task AnomalyChecksAsync(RunningPipeline pipeline, IReadOnlyList<string> batchIds, BenchmarkReport report)
    {
        var costs = await pipeline.AnomalyCheckCostsAsync(batchIds);
        foreach (var cost in costs)
        {
            Console.WriteLine($"  {cost.BatchId}: anomaly check {cost.Check.TotalMilliseconds:F1} ms, {cost.Calls} AWS calls, {cost.Sequential} one after " +
                $"another ({cost.Operations}); Compute stage {cost.Compute.TotalMilliseconds:F0} ms: {cost.ShareOfCompute:P1}");
        }
        const string name = "anomaly check of a warm seed batch, share of its Compute stage";
        if (costs.Count == 0)
        {
            report.Figure(name, "not measured", "no spans of the checks arrived", "<= 5 %", false);
            return;
        }
        var share = Median(costs.Select(c => c.ShareOfCompute));
        report.Figure($"{name}, median of {costs.Count}", $"{share:P1}",
            $"check median {Median(costs.Select(c => c.Check)).TotalMilliseconds:F1} ms, " +
            $"{Median(costs.Select(c => (double)c.Calls)):F0} AWS calls, {Median(costs.Select(c => (double)c.Sequential)):F0} one after another; " +
            $"Compute stage median {Median(costs.Select(c => c.Compute)).TotalMilliseconds:F0} ms",
            "<= 5 %", share <= 0.05);
    }

    /// <summary>
    /// Seed batches submitted by the installed <c>pipeline</c> command, each a new process as a person starts it, timed
    /// from its start to the Succeeded alert: its start-up, the upload and the publish included. How many it sent: none
    /// without the installed command.
    /// </summary>
    private static async Task<int> CliSubmitsAsync(RunningPipeline pipeline, IReadOnlyList<string> folders, AwsLatencyPlan? latency, BenchmarkReport report)
    {
        const string name = "seed batches from `pipeline submit`";
        var command = PipelineCommand.Installed();
        if (!File.Exists(command))
        {
            report.Figure(name, "not measured", $"no installed pipeline command at {command}: install it with `dotnet publish Pipeline.Cli`",
                $"<= {CliSubmitTarget.TotalSeconds} s", latency is null ? false : null);
            return 0;
        }
        var endpoints = pipeline.Aws.CliEndpointArguments();
        var runs = new List<Measurement>();
        for (var run = 1; run <= folders.Count; run++)
        {
            var batch = $"bench-cli-{run:D2}";
            var measured = await MeasureAsync(pipeline, batch, latency, async () =>
            {
                var submit = await PipelineCommand.RunAsync([command], ["submit", folders[run - 1], "--batch", batch, .. endpoints]);
                if (submit.ExitCode != 0)
                {
                    throw new InvalidOperationException($"{command} submit exited with {submit.ExitCode}: {submit.Error.Trim()}");
                }
            });
            runs.Add(measured);
            // The process exits after its publish, while Validate already works: its time and the stages' overlap.
            Console.WriteLine($"  {batch}: pipeline submit -> Succeeded alert {measured.Latency.TotalMilliseconds:F0} ms " +
                $"(the submit process, start to exit, {measured.Upload.TotalSeconds:F2} s; {measured.StageTimes()})");
        }
        var latencies = runs.Select(r => r.Latency).ToList();
        var median = Median(latencies);
        report.Figure($"{name}, median of {folders.Count}", $"{median.TotalSeconds:F2} s",
            $"{command}; min {latencies.Min().TotalSeconds:F2} s, max {latencies.Max().TotalSeconds:F2} s; submit process median " +
            $"{Median(runs.Select(r => r.Upload).ToList()).TotalSeconds:F2} s",
            latency is null ? $"<= {CliSubmitTarget.TotalSeconds} s" : null, latency is null ? median <= CliSubmitTarget : null);
        return folders.Count;
    }

    /// <summary>The large batch and its replacement; the time of the first, end to end.</summary>
    private static async Task<TimeSpan> LargeBatchAsync(RunningPipeline pipeline, long orders, AwsLatencyPlan? latency, BenchmarkReport report)
    {
        // Dates of their own (2027), so this batch touches no day of the seed batches, and ids above every seed copy's.
        var generating = Stopwatch.StartNew();
        var ids = (SeedRuns + CliRuns + 1) * BenchmarkBatches.IdsPerCopy;
        var folder = BenchmarkBatches.Generate(orders, new DateOnly(2027, 1, 1), seed: 7, days: 31, parts: 8, idOffset: ids);
        // The same orders corrected: another draw of the generator over the same ids.
        var corrected = BenchmarkBatches.Generate(orders, new DateOnly(2027, 1, 1), seed: 8, days: 31, parts: 8, idOffset: ids);
        var bytes = Directory.EnumerateFiles(folder, "*.csv", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"large batch: {orders:N0} orders, {bytes / 1e6:F0} MB of CSV, generated in {generating.Elapsed.TotalSeconds:F1} s (not timed)");

        var measured = await SubmitAndWaitAsync(pipeline, folder, "bench-large", latency);
        var million = orders == 1_000_000 && latency is null;
        report.Figure($"{orders:N0} orders end to end", $"{measured.Latency.TotalSeconds:F1} s", measured.Breakdown(),
            million ? $"<= {MillionTarget.TotalSeconds} s" : null, million ? measured.Latency <= MillionTarget : null);
        measured.PrintCounts();
        measured.PrintCalls();
        await pipeline.ReportSpansAsync("bench-large");
        var keyCheck = TimeSpan.FromMilliseconds(measured.Run.Stages[Stages.Validate].Counts.GetValueOrDefault("key_check_ms"));
        var keyShare = keyCheck / measured.Latency;
        report.Figure("order key check", $"{keyCheck.TotalSeconds:F2} s, {keyShare:P1}", null, "<= 10 % of the batch", keyShare <= 0.10);

        var replacement = await SubmitAndWaitAsync(pipeline, corrected, "bench-large", latency);
        var ratio = replacement.Latency / measured.Latency;
        report.Figure("replacing it", $"{replacement.Latency.TotalSeconds:F1} s, {ratio:F2}x the first", replacement.Breakdown(), "<= 1.2x", ratio <= 1.2);
        replacement.PrintCounts();
        await CheckKpisAsync(pipeline, "large batch's KPIs after the replacement", PipelineDriver.EngineKpis(corrected), report);
        await ReconcileAsync(pipeline, new DateOnly(2027, 1, 1), new DateOnly(2027, 1, 31), report);
        Directory.Delete(folder, recursive: true);
        Directory.Delete(corrected, recursive: true);
        return measured.Latency;
    }

    /// <summary>As many orders as the large batch, gzipped, on days and ids of their own: its time against the plain batch's.</summary>
    private static async Task GzippedBatchAsync(RunningPipeline pipeline, long orders, TimeSpan plain, AwsLatencyPlan? latency, BenchmarkReport report)
    {
        var ids = (SeedRuns + CliRuns + 2) * BenchmarkBatches.IdsPerCopy;
        var folder = BenchmarkBatches.Generate(orders, new DateOnly(2028, 1, 1), seed: 7, days: 31, parts: 8, idOffset: ids, PartCompression.Gzip);
        var bytes = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(PartFormat.IsPartName).Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"gzipped batch: {orders:N0} orders, {bytes / 1e6:F0} MB as .csv.gz");

        var measured = await SubmitAndWaitAsync(pipeline, folder, "bench-large-gz", latency);
        var ratio = measured.Latency / plain;
        report.Figure($"{orders:N0} orders gzipped end to end", $"{measured.Latency.TotalSeconds:F1} s, {ratio:F2}x the plain batch", measured.Breakdown(),
            "<= 1.3x", ratio <= 1.3);
        measured.PrintCounts();
        await CheckKpisAsync(pipeline, "gzipped batch's KPIs", PipelineDriver.EngineKpis(folder), report);
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>
    /// <c>pipeline reconcile</c> (the installed command, a process of its own) over the large batch's days, whose version in
    /// force is the replacement, against the engine's own time on the same files — the version's archived files, read from
    /// the same S3 as reconcile reads them, by an engine that starts as reconcile's does (<see cref="ColdEngine"/>) — plus
    /// the read of those days' KPI rows: at most 1.5 times their sum. The engine's time when it has run before in the same
    /// process is shown beside it.
    /// </summary>
    private static async Task ReconcileAsync(RunningPipeline pipeline, DateOnly from, DateOnly to, BenchmarkReport report)
    {
        const string name = "pipeline reconcile of the large batch's days";
        var command = PipelineCommand.Installed();
        if (!File.Exists(command))
        {
            report.Figure(name, "not measured", $"no installed pipeline command at {command}: install it with `dotnet publish Pipeline.Cli`", "<= 1.5x", false);
            return;
        }
        var archive = new KpiArchive(pipeline.Driver.S3, pipeline.Driver.DynamoDb, pipeline.Driver.Topology);
        var version = (await archive.InForceAsync(from, to, CancellationToken.None)).Versions.Single(v => v.BatchId == "bench-large");
        var (engine, rows) = await ColdEngine.RunAsync(pipeline, pipeline.Driver.Topology.Bucket.Name, version.Files);
        var warm = Stopwatch.StartNew(); // for comparison: the engine again in this process, whose engine has run before
        new BatchProcessor().Process(new S3BatchStore(pipeline.Driver.S3).ToEngineInput(pipeline.Driver.Topology.Bucket.Name, version.Files));
        warm.Stop();
        var read = Stopwatch.StartNew();
        var kpis = pipeline.Driver.Kpis;
        var days = await kpis.GetDaysAsync(from, to, CancellationToken.None);
        var categories = await kpis.GetCategoriesAsync(await kpis.ListCategoriesAsync(CancellationToken.None), from, to, CancellationToken.None);
        read.Stop();

        var run = await PipelineCommand.RunAsync([command], ["reconcile", "--from", $"{from:yyyy-MM-dd}", "--to", $"{to:yyyy-MM-dd}",
            .. pipeline.Aws.CliEndpointArguments()]);
        var baseline = engine + read.Elapsed;
        var ratio = run.Elapsed / baseline;
        report.Figure(name, $"{run.Elapsed.TotalSeconds:F2} s, {ratio:F2}x the engine and the KPI read",
            $"engine {engine.TotalSeconds:F2} s on the archived files in S3 in a process of its own ({rows:N0} rows; " +
            $"{warm.Elapsed.TotalSeconds:F2} s warm, in this process), KPI read {read.Elapsed.TotalSeconds:F2} s " +
            $"({days.Count} days, {categories.Count} category rows); exit {run.ExitCode}: {run.Out.Trim()}",
            "<= 1.5x, exit 0", run.ExitCode == 0 && ratio <= 1.5);
    }

    /// <summary>Every day's stored KPIs against the engine's on the same files: "exact", or the first difference.</summary>
    public static async Task CheckKpisAsync(RunningPipeline pipeline, string name, KpiTables expected, BenchmarkReport report)
    {
        try
        {
            await pipeline.Driver.AssertKpisEqualAsync(expected);
            var compared = $"{expected.OrderKpis.Count} days, {expected.CategoryKpis.Count} category rows, as the engine computes them";
            report.Figure(name, "exact", compared, "exact", true);
        }
        catch (Xunit.Sdk.XunitException difference)
        {
            report.Figure(name, "NOT exact", difference.Message, "exact", false);
        }
    }

    /// <summary>Submits, waits for the alert, and reads the run record (written before the alert is sent).</summary>
    public static Task<Measurement> SubmitAndWaitAsync(RunningPipeline pipeline, string folder, string name, AwsLatencyPlan? latency) =>
        MeasureAsync(pipeline, name, latency, () => pipeline.Driver.SubmitAsync(folder, name));

    /// <summary>Times <paramref name="submit"/> and the wait for the batch's alert, and reads the run record (written before the alert is sent).</summary>
    private static async Task<Measurement> MeasureAsync(RunningPipeline pipeline, string name, AwsLatencyPlan? latency, Func<Task> submit)
    {
        var callsBefore = latency?.Calls();
        var clock = Stopwatch.StartNew();
        await submit();
        var upload = clock.Elapsed;
        var alert = await pipeline.Driver.NextAlertAsync(name);
        var elapsed = clock.Elapsed;
        if (alert.Status != AlertStatus.Succeeded)
        {
            throw new InvalidOperationException($"{name}: {alert.Status}: {alert.Subject}: {alert.Summary}");
        }

        var run = (await pipeline.Driver.HistoryAsync(name)).Latest ?? throw new InvalidOperationException($"{name}: no run record");
        return new Measurement(elapsed, upload, run, callsBefore is null ? null : CallsBetween(callsBefore, latency!.Calls()));
    }

    private static List<(AwsCall Call, long Count)> CallsBetween(IReadOnlyDictionary<AwsCall, long> before, IReadOnlyDictionary<AwsCall, long> after) =>
        after.Select(c => (c.Key, c.Value - before.GetValueOrDefault(c.Key))).Where(c => c.Item2 > 0).OrderByDescending(c => c.Item2).ToList();

    /// <param name="Upload">
    /// Upload and publish, as <c>pipeline submit</c> does them: not in the run record, which begins when Validate takes the message.
    /// </param>
    /// <param name="Calls">With AWS-like latency, the services' AWS calls from the submit to the alert, by operation.</param>
    internal sealed record Measurement(TimeSpan Latency, TimeSpan Upload, PipelineRun Run, List<(AwsCall Call, long Count)>? Calls)
    {
        /// <summary>"upload 0.31 s, validate 0.52 s, ...; between stages 0.20 s": where the time went.</summary>
        public string Breakdown()
        {
            var between = Latency - Upload - Stages().Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Took);
            return $"upload {Upload.TotalSeconds:F2} s, {StageTimes()}; between stages (queues, alert delivery) {between.TotalSeconds:F2} s";
        }

        /// <summary>"validate 0.52 s, transform ...": each stage from its start to its end, from the run record.</summary>
        public string StageTimes() => string.Join(", ", Stages().Select(s => $"{s.Stage} {s.Took.TotalSeconds:F2} s"));

        private IEnumerable<(string Stage, TimeSpan Took)> Stages() => Run.Stages.OrderBy(s => s.Value.StartedAt)
            .Select(s => (s.Key, (s.Value.FinishedAt ?? s.Value.StartedAt) - s.Value.StartedAt));

        /// <summary>Each stage's own counts from the run record (rows, files, the key check's pages and time).</summary>
        public void PrintCounts()
        {
            foreach (var (stage, record) in Run.Stages.Where(s => s.Value.Counts.Count > 0).OrderBy(s => s.Value.StartedAt))
            {
                Console.WriteLine($"  {stage}: {string.Join(", ", record.Counts.Select(c => $"{c.Key} {c.Value:N0}"))}");
            }
        }

        /// <summary>With AWS-like latency: the calls made meanwhile and the latency they add if made one after another.</summary>
        public void PrintCalls()
        {
            if (Calls is null)
            {
                return;
            }
            var added = TimeSpan.FromTicks(Calls.Sum(c => c.Count * AwsLatencyPlan.LatencyOf(c.Call).Ticks));
            Console.WriteLine($"  AWS calls of the services from submit to alert (this batch's, and their idle polls): {Calls.Sum(c => c.Count):N0}, " +
                $"{added.TotalSeconds:F1} s of added latency if made one after another: {string.Join(", ", Calls.Select(c => $"{c.Call} {c.Count:N0}"))}");
        }
    }
}
