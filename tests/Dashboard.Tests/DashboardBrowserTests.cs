using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Pipeline.Contracts.Alerts;

namespace Dashboard.Tests;

/// <summary>
/// The pages in Debian's Chromium, as a person would use them: the numbers on screen are the engine's, charts are
/// drawn, runs and a rejection read right, a page updates by itself when a batch finishes, the health page reads the
/// queues without a trace of its own, and axe finds no serious accessibility problem. Screenshots go to
/// artifacts/dashboard-screenshots.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardBrowserTests(DashboardApp app)
{
    private static readonly TimeSpan LiveUpdateTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The page is drawn (prerendered) and its circuit is up, so it reacts to input and to the pipeline.</summary>
    private const string Interactive = "main[data-interactive] #kpis[data-state=loaded]";

    private BrowserSession Browser => app.Browser ?? throw new InvalidOperationException(BrowserSession.WhyUnavailable);

    private Uri Dashboard => app.Http.BaseAddress!;

    [BrowserFact]
    public async Task The_kpi_page_shows_the_engines_numbers_for_the_seed_batch_and_draws_its_charts()
    {
        var page = await Browser.OpenAsync(Dashboard, "/");
        await page.Locator("#kpis[data-state=loaded]").WaitForAsync();

        var day = app.SeedKpis.OrderKpis[app.SeedKpis.OrderKpis.Count / 2];
        var row = page.Locator($"#daily-table tr[data-day='{Day(day.OrderDate)}']");
        Assert.Equal(day.TotalRevenue.ToString("#,0.00", CultureInfo.InvariantCulture), await row.Locator("[data-field=total_revenue]").InnerTextAsync());
        Assert.Equal(day.TotalOrders.ToString("#,0", CultureInfo.InvariantCulture), await row.Locator("[data-field=total_orders]").InnerTextAsync());
        Assert.Equal(day.UniqueCustomers.ToString("#,0", CultureInfo.InvariantCulture), await row.Locator("[data-field=unique_customers]").InnerTextAsync());
        Assert.Equal(day.ReturnRate.ToString("0.00", CultureInfo.InvariantCulture) + " %", await row.Locator("[data-field=return_rate]").InnerTextAsync());
        Assert.Equal(app.SeedKpis.OrderKpis.Count, await page.Locator("#daily-table tbody tr").CountAsync());

        // Each daily chart draws one point per day; each category chart one line per category.
        var revenue = page.Locator("figure.chart", new() { HasText = "Revenue" }).First.Locator("svg");
        Assert.Equal(app.SeedKpis.OrderKpis.Count.ToString(CultureInfo.InvariantCulture), await revenue.GetAttributeAsync("data-points"));
        Assert.Equal(app.SeedKpis.OrderKpis.Count - 1, (await revenue.Locator("path").GetAttributeAsync("d"))!.Count(c => c == 'L'));
        var categories = app.SeedKpis.CategoryKpis.Select(r => r.Category).Distinct().Count();
        Assert.Equal(categories, await page.Locator("figure.chart", new() { HasText = "Revenue by category" }).Locator("svg path").CountAsync());
        await BrowserSession.ScreenshotAsync(page, "kpis");

        // A phone: nothing wider than the screen but the tables, which scroll in their own box.
        var phone = await Browser.OpenAsync(Dashboard, "/", width: 390, height: 844);
        await phone.Locator("#kpis[data-state=loaded]").WaitForAsync();
        Assert.True(await phone.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"));
        await BrowserSession.ScreenshotAsync(phone, "kpis-phone");
        await page.Context.CloseAsync();
        await phone.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task The_category_table_sorts_by_revenue_from_the_keyboard()
    {
        var page = await Browser.OpenAsync(Dashboard, "/");
        await page.Locator(Interactive).WaitForAsync();
        var sort = page.GetByRole(AriaRole.Button, new() { Name = "Revenue", Exact = true });
        await sort.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await page.Keyboard.PressAsync("Enter"); // descending

        var top = app.SeedKpis.CategoryKpis.MaxBy(r => r.DailyRevenue)!;
        var first = page.Locator("table.grid tbody tr").First;
        await Assertions.Expect(first).ToContainTextAsync(top.DailyRevenue.ToString("#,0.00", CultureInfo.InvariantCulture));
        await Assertions.Expect(first).ToContainTextAsync(top.Category);
        await page.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task The_runs_list_shows_the_seed_batch_and_its_page_the_four_stages()
    {
        var page = await Browser.OpenAsync(Dashboard, "/runs");
        var seed = page.Locator($"#runs-table tr[data-batch='{DashboardApp.SeedBatch}']");
        await Assertions.Expect(seed).ToContainTextAsync("Succeeded");
        await BrowserSession.ScreenshotAsync(page, "runs");

        await seed.GetByRole(AriaRole.Link, new() { Name = DashboardApp.SeedBatch }).ClickAsync();
        await Assertions.Expect(page.Locator("#batch .timeline li")).ToHaveCountAsync(4);
        Assert.Equal(
            ["validate", "transform", "compute", "notify"],
            await page.Locator("#batch .timeline li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.stage)"));
        await Assertions.Expect(page.Locator("#batch")).ToContainTextAsync("Version 1 is in force");
        await BrowserSession.ScreenshotAsync(page, "batch");
        await page.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task A_rejected_batchs_page_shows_the_rule_and_the_line()
    {
        var page = await Browser.OpenAsync(Dashboard, $"/runs/{DashboardApp.RejectedBatch}");
        await page.Locator("#batch[data-state=loaded]").WaitForAsync();

        var error = app.RejectedReport.Errors[0];
        var row = page.Locator("table.report tbody tr").First;
        await Assertions.Expect(row).ToContainTextAsync(error.Rule);
        await Assertions.Expect(row.Locator("td").Nth(2)).ToHaveTextAsync(error.Line.ToString(CultureInfo.InvariantCulture));
        await Assertions.Expect(row).ToContainTextAsync(error.File);
        await BrowserSession.ScreenshotAsync(page, "rejected");
        await page.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task A_kpi_page_open_while_a_batch_finishes_shows_its_days_without_a_reload()
    {
        var first = new DateOnly(2024, 1, 1);
        var page = await Browser.OpenAsync(Dashboard, $"/?from={Day(first)}&to={Day(first.AddDays(4))}");
        await page.Locator(Interactive).WaitForAsync(); // the circuit is up: the page can hear of the batch
        Assert.Equal(0, await page.Locator("#daily-table tbody tr").CountAsync());
        await page.EvaluateAsync("window.sameDocument = true");

        var folder = PipelineDriver.Generate(150, first, seed: 21, days: 5);
        await app.Pipeline.SubmitAsync(folder, "live");
        Assert.Equal(AlertStatus.Succeeded, (await app.Pipeline.NextAlertAsync("live")).Status);

        await Assertions.Expect(page.Locator("#daily-table tbody tr")).ToHaveCountAsync(5, new() { Timeout = (float)LiveUpdateTimeout.TotalMilliseconds });
        var expected = PipelineDriver.EngineKpis(folder).OrderKpis[0];
        await Assertions.Expect(page.Locator($"#daily-table tr[data-day='{Day(first)}'] [data-field=total_orders]"))
            .ToHaveTextAsync(expected.TotalOrders.ToString("#,0", CultureInfo.InvariantCulture));
        Assert.True(await page.EvaluateAsync<bool>("window.sameDocument === true")); // the same page: no reload
        await page.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task The_pipeline_health_page_reads_the_queues_every_5_s_without_starting_a_trace()
    {
        // Each read of the queues is pushed to the page as a render over its circuit.
        var renders = new ConcurrentQueue<DateTimeOffset>();
        var page = await Browser.NewPageAsync(Dashboard);
        page.WebSocket += (_, socket) => socket.FrameReceived += (_, frame) =>
        {
            if (frame.Binary is { } bytes && Encoding.UTF8.GetString(bytes).Contains("JS.RenderBatch", StringComparison.Ordinal))
            {
                renders.Enqueue(DateTimeOffset.UtcNow);
            }
        };
        await page.GotoAsync("/pipeline-health");
        await page.Locator("main[data-interactive] #health[data-state=loaded]").WaitForAsync();

        // From a read well after the page was drawn, two more reads; then a request of ours, whose span the dashboard
        // exports after every span that ended before it (in the order they end).
        var drawn = renders.Count;
        var deadline = DateTimeOffset.UtcNow + LiveUpdateTimeout;
        while (renders.Count < drawn + 4)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"{renders.Count - drawn} reads of the queues in {LiveUpdateTimeout.TotalMinutes} minutes");
            await Task.Delay(100);
        }
        var from = renders.ElementAt(drawn + 1);
        var asked = DateTimeOffset.UtcNow;
        (await app.Http.GetAsync("/api/runs?limit=1")).EnsureSuccessStatusCode();
        var spans = await app.Host.Traces.WaitForAsync(all => all.Any(s => s.Service == "dashboard" && s.Name == "GET /api/runs" && s.Start >= asked),
            LiveUpdateTimeout, "the dashboard's span of GET /api/runs");

        Assert.Empty(spans.Where(s => s.Service == "dashboard" && s.Start >= from && s.Start < asked).Select(s => s.ToString()));
        await page.Context.CloseAsync();
    }

    [BrowserFact]
    public async Task Axe_finds_no_serious_or_critical_accessibility_violation_on_the_main_pages()
    {
        foreach (var (path, ready, shot) in new[]
        {
            ("/", "#kpis[data-state=loaded]", (string?)null),
            ("/runs", "#runs-table", null),
            ($"/runs/{DashboardApp.RejectedBatch}", "#batch[data-state=loaded]", null),
            ("/pipeline-health", "#health[data-state=loaded]", "health"),
        })
        {
            var page = await Browser.OpenAsync(Dashboard, path);
            // Interactive: the page's title comes with its circuit (the head is rendered apart from the page).
            await page.Locator($"main[data-interactive] {ready}").WaitForAsync();
            if (shot is not null)
            {
                await BrowserSession.ScreenshotAsync(page, shot);
            }
            var results = await page.RunAxe();
            var serious = results.Violations.Where(v => v.Impact is "serious" or "critical")
                .Select(v => $"{path}: {v.Id} ({v.Impact}): {v.Help} at {string.Join("; ", v.Nodes.Take(3).Select(n => n.Html))}").ToList();
            Assert.True(serious.Count == 0, string.Join('\n', serious));
            await page.Context.CloseAsync();
        }
    }

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
