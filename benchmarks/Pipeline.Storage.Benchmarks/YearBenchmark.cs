using System.Diagnostics;
using System.Globalization;
using Benchmarks;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;
using Services.Dashboard.Api;
using Services.Dashboard.Live;
using Services.Dashboard.Reading;
using static Benchmarks.Figures;

namespace Pipeline.Storage.Benchmarks;

/// <summary>
/// A year of a large shop in the KPI store (issue #21): each day's batches folded in through the store's public API as
/// Compute does, each with its run record, then what it costs: the DynamoDB requests and capacity units of folding the
/// first day's batches against the last day's (a fold must cost the same whatever the store holds), the dashboard's
/// year-long KPI read and runs page (p50/p95, target p95 at most 200 ms), and <c>pipeline status</c> and
/// <c>pipeline kpis</c> over the year. The first and the last day are folded one batch at a time and metered on their
/// own; the days between are folded a few at once to keep the run short.
/// </summary>
internal static class YearBenchmark
{
    private static readonly DateOnly FirstDay = new(2025, 1, 1);
    private static readonly TimeSpan ReadTarget = TimeSpan.FromMilliseconds(200);

    /// <param name="args">
    /// <c>--days N</c> (365), <c>--batches-per-day N</c> (50), <c>--orders-per-batch N</c> (1,650: 30.1 million orders in a
    /// year), <c>--customers N</c> (the shop's customer base, 1,000,000), <c>--concurrency N</c> (folds at once, 4),
    /// <c>--repetitions N</c> (of each read, 20).
    /// </param>
    public static async Task<int> RunAsync(StorageEmulators emulators, string[] args)
    {
        var plan = new YearPlan(
            Days: Option(args, "--days", 365), BatchesPerDay: Option(args, "--batches-per-day", 50), OrdersPerBatch: Option(args, "--orders-per-batch", 1_650),
            Customers: Option(args, "--customers", 1_000_000), Concurrency: Option(args, "--concurrency", 4));
        var repetitions = Option(args, "--repetitions", 20);
        if (plan.Days < 2 || plan.BatchesPerDay < 1 || plan.OrdersPerBatch < 1 || plan.Customers < 1 || plan.Concurrency < 1 || repetitions < 1)
        {
            Console.Error.WriteLine(
                "--days must be at least 2; --batches-per-day, --orders-per-batch, --customers, --concurrency and --repetitions at least 1.");
            return 1;
        }
        Console.WriteLine($"a year in the store: {plan.Days} days x {plan.BatchesPerDay} batches x {plan.OrdersPerBatch:N0} orders = " +
            $"{plan.Batches:N0} batches, {plan.Orders:N0} orders from {plan.Customers:N0} customers; {plan.Concurrency} folds at once (commit {Commit()})");

        var kpiMeter = new DynamoDbMeter();
        var runMeter = new DynamoDbMeter();
        using var kpiClient = emulators.CreateDynamoDb(config => config.HttpClientFactory = kpiMeter);
        using var runClient = emulators.CreateDynamoDb(config => config.HttpClientFactory = runMeter);
        var year = new YearFolder(plan, new DynamoKpiStore(kpiClient, emulators.Topology, TimeProvider.System),
            new PipelineRunStore(runClient, emulators.Topology, TimeProvider.System), kpiMeter);

        var clock = Stopwatch.StartNew();
        var first = await year.FoldMeteredDayAsync(0);
        await year.FoldDaysAsync(1, plan.Days - 2, clock);
        var last = await year.FoldMeteredDayAsync(plan.Days - 1);
        Console.WriteLine($"  folded in {clock.Elapsed:hh\\:mm\\:ss} (load {LoadAverage()})");
        var flat = ReportFolds(plan, first, last, year.Totals, runMeter);

        var exact = await ReadsAsync(emulators, plan, repetitions);
        await CommandsAsync(emulators, plan);
        Console.WriteLine($"load average at the end: {LoadAverage()}");
        return flat && exact ? 0 : 2;
    }

    private static bool ReportFolds(YearPlan plan, IReadOnlyList<Metered> first, IReadOnlyList<Metered> last, Metered all, DynamoDbMeter runs)
    {
        Console.WriteLine("KPI store, DynamoDB per batch (write the contribution and fold it):");
        Console.WriteLine($"  first day: {Describe(first)}");
        Console.WriteLine($"  last day:  {Describe(last)}");
        var ratio = Mean(last, m => m.ReadUnits + m.WriteUnits) / Mean(first, m => m.ReadUnits + m.WriteUnits);
        var requestRatio = Mean(last, m => m.Requests) / Mean(first, m => m.Requests);
        var flat = ratio <= 1.1 && requestRatio <= 1.1;
        Console.WriteLine($"  last day against first: {requestRatio:F2}x the requests, {ratio:F2}x the capacity units " +
            $"(flat = at most 1.1x: {(flat ? "met" : "MISSED")})");
        var perMillion = 1_000_000.0 / plan.Orders;
        Console.WriteLine($"  whole year: {all.Requests:N0} requests ({all.ReadRequests:N0} reads, {all.WriteRequests:N0} writes), " +
            $"{all.ReadUnits:N0} read units, {all.WriteUnits:N0} write units, {all.RequestBytes / 1e6:N1} MB sent; " +
            $"per batch {all.Requests / (double)plan.Batches:F1} requests, {all.ReadUnits / plan.Batches:F1} RRU, {all.WriteUnits / plan.Batches:F1} WRU; " +
            $"per million orders {all.ReadUnits * perMillion:N0} RRU, {all.WriteUnits * perMillion:N0} WRU");
        Console.WriteLine($"runs table, DynamoDB per batch (begun, three stages started, folded, succeeded, notified): " +
            $"{runs.Requests / (double)plan.Batches:F1} requests ({runs.Describe()} in all), {runs.ReadUnits / plan.Batches:F1} RRU, " +
            $"{runs.WriteUnits / plan.Batches:F1} WRU");
        return flat;
    }

    /// <summary>The dashboard's reads over the year (its own readers, on a client of their own), timed and metered.</summary>
    private static async Task<bool> ReadsAsync(StorageEmulators emulators, YearPlan plan, int repetitions)
    {
        var meter = new DynamoDbMeter();
        using var dynamoDb = emulators.CreateDynamoDb(config => config.HttpClientFactory = meter);
        using var s3 = emulators.CreateS3();
        var kpis = new KpiReader(new KpiQueries(dynamoDb, emulators.Topology), new PipelineChanges(), TimeProvider.System);
        var year = new KpiRange(FirstDay, FirstDay.AddDays(plan.Days - 1), Defaulted: false);
        var runs = new RunReader(new PipelineRunStore(dynamoDb, emulators.Topology, TimeProvider.System), s3, emulators.Topology, TimeProvider.System);

        DailyKpis? daily = null;
        await TimeAsync($"dashboard KPI page over {plan.Days} days (daily rows and every category's, as the page reads them)", meter, repetitions, async () =>
        {
            var reading = (Daily: kpis.DailyAsync(year, CancellationToken.None), Categories: kpis.CategoriesAsync(year, null, CancellationToken.None));
            daily = await reading.Daily;
            await reading.Categories;
        });
        await TimeAsync($"dashboard runs page ({DashboardApi.DefaultRunCount} newest runs and the running ones)", meter, repetitions,
            () => runs.OverviewAsync(DashboardApi.DefaultRunCount, CancellationToken.None));

        var orders = daily!.Rows.Sum(r => r.TotalOrders);
        var exact = daily.Rows.Count == plan.Days && orders == plan.Orders;
        Console.WriteLine($"  the year's KPIs: {daily.Rows.Count} days, {orders:N0} orders (folded {plan.Orders:N0}: {(exact ? "exact" : "NOT EXACT")})");
        return exact;
    }

    private static async Task TimeAsync(string name, DynamoDbMeter meter, int repetitions, Func<Task> read)
    {
        await read(); // the first read opens the connections and compiles the code
        meter.Clear();
        var times = new List<TimeSpan>();
        for (var i = 0; i < repetitions; i++)
        {
            var clock = Stopwatch.StartNew();
            await read();
            times.Add(clock.Elapsed);
        }
        var p95 = Percentile(times, 0.95);
        Console.WriteLine($"{name}: p50 {Median(times).TotalMilliseconds:F0} ms, p95 {p95.TotalMilliseconds:F0} ms " +
            $"(target p95 <= {ReadTarget.TotalMilliseconds:F0} ms: {(p95 <= ReadTarget ? "met" : "MISSED")}; {repetitions} reads; load {LoadAverage()}); " +
            $"each {meter.Requests / (double)repetitions:F1} requests ({meter.Describe()} in all), {meter.ReadUnits / repetitions:F1} RRU");
    }

    /// <summary><c>pipeline status</c> and <c>pipeline kpis</c> over the year, as a person runs them (the installed command).</summary>
    private static async Task CommandsAsync(StorageEmulators emulators, YearPlan plan)
    {
        var command = PipelineCommand.Installed();
        if (!File.Exists(command))
        {
            Console.WriteLine($"pipeline status / kpis: not measured, no installed pipeline command at {command} " +
                "(install it with `dotnet publish Pipeline.Cli`)");
            return;
        }
        string[] endpoints = ["--endpoint", emulators.AwsUrl, "--dynamodb-endpoint", emulators.DynamoDbUrl];
        var last = FirstDay.AddDays(plan.Days - 1);
        foreach (var args in new[]
                 {
                     new[] { "status" },
                     ["status", BatchId(last, plan.BatchesPerDay - 1)],
                     ["kpis", "--from", Iso(FirstDay), "--to", Iso(last), "--csv"],
                     ["kpis", "--category", "Books", "--from", Iso(FirstDay), "--to", Iso(last), "--csv"],
                 })
        {
            var runs = new List<PipelineCommand.Run>();
            for (var i = 0; i < 3; i++)
            {
                runs.Add(await PipelineCommand.RunAsync([command], [.. args, .. endpoints]));
            }
            var failed = runs.FirstOrDefault(r => r.ExitCode != 0);
            var lines = runs[0].Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            Console.WriteLine($"pipeline {string.Join(' ', args)}: " + (failed is null
                ? $"median {Median(runs.Select(r => r.Elapsed)).TotalMilliseconds:F0} ms of 3 runs, process start to exit ({lines} lines; load {LoadAverage()})"
                : $"exit code {failed.ExitCode}: {failed.Error.Trim()}"));
        }
    }

    private static string Describe(IReadOnlyList<Metered> batches) =>
        $"{batches.Count} batches, {Mean(batches, m => m.Requests):F1} requests each ({batches[0].Operations}), " +
        $"{Mean(batches, m => m.ReadUnits):F1} RRU and {Mean(batches, m => m.WriteUnits):F1} WRU each, " +
        $"{Mean(batches, m => m.RequestBytes) / 1e3:F1} KB sent; " +
        $"its first batch {batches[0].Requests} requests {batches[0].ReadUnits + batches[0].WriteUnits:F1} units, " +
        $"its last {batches[^1].Requests} requests {batches[^1].ReadUnits + batches[^1].WriteUnits:F1} units (load {LoadAverage()})";

    private static double Mean(IReadOnlyList<Metered> batches, Func<Metered, double> value) => batches.Average(value);

    internal static string BatchId(DateOnly day, int index) => $"year-{Iso(day)}-{index + 1:D3}";

    private static string Iso(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static int Option(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    internal sealed record YearPlan(int Days, int BatchesPerDay, int OrdersPerBatch, int Customers, int Concurrency)
    {
        public long Batches => (long)Days * BatchesPerDay;

        public long Orders => Batches * OrdersPerBatch;

        public static DateOnly Day(int index) => FirstDay.AddDays(index);
    }
}

/// <summary>What a meter counted: requests, capacity units and bytes sent.</summary>
internal sealed record Metered(long Requests, long ReadRequests, long WriteRequests, double ReadUnits, double WriteUnits, long RequestBytes, string Operations)
{
    public static Metered Of(DynamoDbMeter meter) =>
        new(meter.Requests, meter.ReadRequests, meter.WriteRequests, meter.ReadUnits, meter.WriteUnits, meter.RequestBytes, meter.Describe());

    public static Metered operator +(Metered a, Metered b) =>
        new(a.Requests + b.Requests, a.ReadRequests + b.ReadRequests, a.WriteRequests + b.WriteRequests, a.ReadUnits + b.ReadUnits,
            a.WriteUnits + b.WriteUnits, a.RequestBytes + b.RequestBytes, "");
}
