using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.Generation;
using Pipeline.Testing;
using static Benchmarks.Figures;

namespace Dashboard.Benchmarks;

/// <summary>
/// A year of daily data in 20 categories through the real pipeline, then: the API's answer for the whole year (target:
/// under 200 ms) and the KPI page for the year, from navigation to every chart and table drawn in Chromium (target:
/// under 1 s). Prints each figure with the load average; exits 2 when a target is missed.
/// </summary>
internal static class DashboardBenchmark
{
    private const int Categories = 20;
    private const int OrdersPerDay = 150;
    private static readonly DateOnly FirstDay = new(2024, 1, 1);
    private static readonly DateOnly LastDay = new(2024, 12, 31);
    private static readonly TimeSpan ApiTarget = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan PageTarget = TimeSpan.FromSeconds(1);

    /// <param name="args"><c>[--runs N]</c>: measured requests and page loads (default 20 and 10).</param>
    public static async Task<int> RunAsync(string[] args)
    {
        var runs = args is ["--runs", var n] ? int.Parse(n, CultureInfo.InvariantCulture) : 20;
        Console.WriteLine($"load average before start: {LoadAverage()} ({Environment.ProcessorCount} cores)");
        if (BrowserSession.WhyUnavailable is { } why)
        {
            Console.Error.WriteLine($"cannot measure the page: {why}");
            return 1;
        }

        var started = Stopwatch.StartNew();
        var host = new EmulatorApp();
        await host.StartAsync();
        try
        {
            Console.WriteLine($"AppHost healthy in {started.Elapsed.TotalSeconds:F1} s; load average {LoadAverage()}");
            using var pipeline = new PipelineDriver(host);
            await SubmitYearAsync(pipeline);

            using var http = host.App.CreateHttpClient("dashboard");
            var year = $"from={Day(FirstDay)}&to={Day(LastDay)}";
            var daily = await TimeApiAsync(http, $"/api/kpis/daily?{year}", runs);
            var categories = await TimeApiAsync(http, $"/api/kpis/categories?{year}", runs);
            await TimeApiAsync(http, "/api/kpis/daily", runs);
            var page = await TimePageAsync(http.BaseAddress!, $"/?{year}", Math.Max(3, runs / 2));
            Console.WriteLine($"load average at the end: {LoadAverage()}");

            var met = daily <= ApiTarget && categories <= ApiTarget && page <= PageTarget;
            Console.WriteLine($"targets (API year < {ApiTarget.TotalMilliseconds:F0} ms, page < {PageTarget.TotalSeconds:F0} s): {(met ? "met" : "MISSED")}");
            return met ? 0 : 2;
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>Every day of 2024, 150 orders a day, products spread over 20 categories: 366 daily rows, 7,320 category rows.</summary>
    private static async Task SubmitYearAsync(PipelineDriver pipeline)
    {
        var days = LastDay.DayNumber - FirstDay.DayNumber + 1;
        var folder = Directory.CreateTempSubdirectory("dashboard-bench-").FullName;
        SyntheticBatchGenerator.Generate(folder, new GeneratorOptions(OrdersPerDay * days, Parts: 4, Seed: 11, Days: days, Products: 2_000)
        {
            FirstDay = FirstDay,
            IdOffset = PipelineDriver.NewIds(),
        });
        SpreadOverCategories(Path.Combine(folder, "products.csv"));
        var watch = Stopwatch.StartNew();
        await pipeline.SubmitAsync(folder, "bench-year");
        var alert = await pipeline.NextAlertAsync("bench-year");
        Console.WriteLine($"a year of data ({OrdersPerDay * days:N0} orders, {days} days, {Categories} categories): " +
            $"{alert.Status} in {watch.Elapsed.TotalSeconds:F1} s");
        Directory.Delete(folder, recursive: true);
        if (alert.Status != AlertStatus.Succeeded)
        {
            throw new InvalidOperationException(alert.Summary);
        }
    }

    /// <summary>The generator knows seven categories; each product gets one of twenty here, by its id.</summary>
    private static void SpreadOverCategories(string products)
    {
        var lines = File.ReadAllLines(products);
        for (var i = 1; i < lines.Length; i++)
        {
            var fields = lines[i].Split(',');
            fields[3] = $"Category {long.Parse(fields[0], CultureInfo.InvariantCulture) % Categories + 1:D2}";
            lines[i] = string.Join(',', fields);
        }
        File.WriteAllLines(products, lines);
    }

    private static async Task<TimeSpan> TimeApiAsync(HttpClient http, string url, int runs)
    {
        var times = new List<TimeSpan>();
        long bytes = 0;
        for (var run = -3; run < runs; run++) // three warm-up requests, not counted
        {
            var watch = Stopwatch.StartNew();
            var body = await http.GetByteArrayAsync(url);
            if (run >= 0)
            {
                times.Add(watch.Elapsed);
            }
            bytes = body.Length;
        }
        var median = Median(times);
        Console.WriteLine($"GET {url}: median {median.TotalMilliseconds:F0} ms, p90 {Percentile(times, 0.9).TotalMilliseconds:F0} ms, " +
            $"max {times.Max().TotalMilliseconds:F0} ms ({bytes / 1024.0:F0} KiB; load {LoadAverage()})");
        return median;
    }

    /// <summary>
    /// From navigation start to the page's data drawn (charts and tables), by the browser's own clock
    /// (<c>performance.now()</c>): first in a new browser context each time (nothing cached), then reloaded in it (the
    /// script cached, as for a reader who comes back).
    /// </summary>
    private static async Task<TimeSpan> TimePageAsync(Uri dashboard, string path, int runs)
    {
        const string Drawn = "#kpis[data-state=loaded] figure.chart svg[data-series='20']";
        await using var browser = (await BrowserSession.StartIfAvailableAsync())!;
        var cold = new List<TimeSpan>();
        var warm = new List<TimeSpan>();
        var shells = new List<TimeSpan>(); // to interactive
        for (var run = -1; run < runs; run++) // one warm-up load, not counted
        {
            var page = await browser.NewPageAsync(dashboard);
            await page.GotoAsync(path, new() { WaitUntil = Microsoft.Playwright.WaitUntilState.Commit });
            // Drawn (prerendered with its data), then interactive (its circuit is up: it sorts, filters and updates itself).
            await page.Locator(Drawn).First.WaitForAsync();
            var drawn = await NowAsync(page);
            await page.Locator("main[data-interactive]").WaitForAsync();
            var shell = await NowAsync(page);
            await page.ReloadAsync(new() { WaitUntil = Microsoft.Playwright.WaitUntilState.Commit });
            await page.Locator(Drawn).First.WaitForAsync();
            var reloaded = await NowAsync(page);
            if (run >= 0)
            {
                cold.Add(drawn);
                warm.Add(reloaded);
                shells.Add(shell);
            }
            if (run == runs - 1)
            {
                var rows = await page.Locator("#daily-table tbody tr").CountAsync();
                Console.WriteLine($"KPI page for the year: {rows} daily rows, {await page.Locator("figure.chart svg").CountAsync()} charts");
                await BrowserSession.ScreenshotAsync(page, "kpis-year");
            }
            await page.Context.CloseAsync();
        }
        Console.WriteLine("KPI page, a year of 20 categories, navigation to drawn, nothing cached: " +
            $"median {Median(cold).TotalMilliseconds:F0} ms, max {cold.Max().TotalMilliseconds:F0} ms " +
            $"(interactive: median {Median(shells).TotalMilliseconds:F0} ms); " +
            $"reloaded: median {Median(warm).TotalMilliseconds:F0} ms, max {warm.Max().TotalMilliseconds:F0} ms; " +
            $"{runs} loads each (load {LoadAverage()})");
        return Median(cold);
    }

    private static async Task<TimeSpan> NowAsync(Microsoft.Playwright.IPage page) =>
        TimeSpan.FromMilliseconds(await page.EvaluateAsync<double>("performance.now()"));

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
