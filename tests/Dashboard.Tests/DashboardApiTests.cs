using System.Globalization;
using System.Net;
using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.Kpis;

namespace Dashboard.Tests;

/// <summary>The JSON API against the real AppHost: the engine's KPIs for the same files, filters, reports, and 400s for bad input.</summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardApiTests(DashboardApp app)
{
    private static readonly string[] OrderFields = ["order_date", "total_orders", "total_revenue", "total_items_sold", "return_rate", "unique_customers"];
    private static readonly string[] CategoryFields = ["category", "order_date", "daily_revenue", "avg_order_value", "avg_return_rate"];

    private DateOnly LastDay => app.SeedKpis.OrderKpis.Max(r => r.OrderDate);

    [Fact]
    public async Task Without_a_range_every_daily_kpi_is_the_engines_for_the_seed_batch_named_as_in_the_tables()
    {
        // No range: the last 31 days that have data, which are the seed batch's (the rejected batch added none).
        using var json = await GetJsonAsync("/api/kpis/daily");

        Assert.Equal(Day(app.SeedKpis.OrderKpis.Min(r => r.OrderDate)), json.RootElement.GetProperty("from").GetString());
        Assert.Equal(Day(LastDay), json.RootElement.GetProperty("to").GetString());
        var rows = json.RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.All(rows, row => Assert.Equal(OrderFields, row.EnumerateObject().Select(p => p.Name)));
        Assert.Equal(app.SeedKpis.OrderKpis, rows.Select(OrderRow));
    }

    [Fact]
    public async Task Every_category_kpi_of_the_seed_batch_is_the_engines_exactly()
    {
        var from = app.SeedKpis.OrderKpis.Min(r => r.OrderDate);

        using var json = await GetJsonAsync($"/api/kpis/categories?from={Day(from)}&to={Day(LastDay)}");

        var rows = json.RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.All(rows, row => Assert.Equal(CategoryFields, row.EnumerateObject().Select(p => p.Name)));
        Assert.Equal(app.SeedKpis.CategoryKpis, rows.Select(CategoryRow));
    }

    [Fact]
    public async Task A_date_range_and_a_category_select_exactly_those_rows()
    {
        var from = DashboardApp.FirstDay.AddDays(10);
        var to = from.AddDays(4);
        var category = app.SeedKpis.CategoryKpis.Select(r => r.Category).Order(StringComparer.Ordinal).Last();

        using var daily = await GetJsonAsync($"/api/kpis/daily?from={Day(from)}&to={Day(to)}");
        using var categories = await GetJsonAsync($"/api/kpis/categories?from={Day(from)}&to={Day(to)}&category={Uri.EscapeDataString(category)}");

        Assert.Equal(
            app.SeedKpis.OrderKpis.Where(r => r.OrderDate >= from && r.OrderDate <= to),
            daily.RootElement.GetProperty("rows").EnumerateArray().Select(OrderRow));
        var expected = app.SeedKpis.CategoryKpis.Where(r => r.Category == category && r.OrderDate >= from && r.OrderDate <= to).ToList();
        Assert.Equal(5, expected.Count);
        Assert.Equal(expected, categories.RootElement.GetProperty("rows").EnumerateArray().Select(CategoryRow));
        Assert.Equal(category, categories.RootElement.GetProperty("category").GetString());
    }

    [Fact]
    public async Task The_csv_exports_carry_every_row_in_full_precision_as_the_engine_writes_them()
    {
        var from = app.SeedKpis.OrderKpis.Min(r => r.OrderDate);
        var query = $"from={Day(from)}&to={Day(LastDay)}";

        var daily = await app.Http.GetStringAsync($"/api/kpis/daily.csv?{query}");
        var categories = await app.Http.GetStringAsync($"/api/kpis/categories.csv?{query}");

        Assert.Equal(Csv(w => KpiCsv.WriteOrderKpis(w, app.SeedKpis.OrderKpis)), daily);
        Assert.Equal(Csv(w => KpiCsv.WriteCategoryKpis(w, app.SeedKpis.CategoryKpis)), categories);
    }

    [Fact]
    public async Task The_runs_list_and_the_batch_show_the_seed_batch_succeeded_with_its_four_stages()
    {
        using var runs = await GetJsonAsync("/api/runs");
        var seed = runs.RootElement.GetProperty("recent").EnumerateArray().Single(r => r.GetProperty("batch_id").GetString() == DashboardApp.SeedBatch);
        Assert.Equal("Succeeded", seed.GetProperty("status").GetString());
        Assert.Equal(app.SeedKpis.OrderKpis.Sum(r => r.TotalOrders), seed.GetProperty("orders").GetInt64());

        using var batch = await GetJsonAsync($"/api/runs/{DashboardApp.SeedBatch}");
        Assert.Equal(1, batch.RootElement.GetProperty("in_force_version").GetInt32());
        var version = Assert.Single(batch.RootElement.GetProperty("versions").EnumerateArray());
        Assert.Equal(
            ["validate", "transform", "compute", "notify"],
            version.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.All(version.GetProperty("stages").EnumerateArray(), s => Assert.Equal("Succeeded", s.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task A_replaced_then_retracted_batch_shows_each_version_and_which_is_in_force_and_its_days_empty_at_the_end()
    {
        // On days of its own, far before the seed's: the other tests' numbers and default range stay as they are.
        var firstDay = new DateOnly(2022, 5, 1);
        var (original, corrected) = (PipelineDriver.Generate(60, firstDay, seed: 21, days: 2), PipelineDriver.Generate(80, firstDay, seed: 22, days: 2));
        var days = $"/api/kpis/daily?from={Day(firstDay)}&to={Day(firstDay.AddDays(2))}";
        await app.Pipeline.SubmitAsync(original, "corrected");
        Assert.Equal(AlertStatus.Succeeded, (await app.Pipeline.NextAlertAsync("corrected")).Status);
        await app.Pipeline.SubmitAsync(corrected, "corrected");
        Assert.Equal(AlertStatus.Succeeded, (await app.Pipeline.NextAlertAsync("corrected")).Status);

        using (var replaced = await GetJsonAsync("/api/runs/corrected"))
        using (var kpis = await GetJsonAsync(days))
        {
            Assert.Equal(2, replaced.RootElement.GetProperty("in_force_version").GetInt32());
            Assert.Equal([(1, "Replaced", false), (2, "Succeeded", true)], Versions(replaced));
            Assert.Equal(PipelineDriver.EngineKpis(corrected).OrderKpis, kpis.RootElement.GetProperty("rows").EnumerateArray().Select(OrderRow));
        }

        await app.Pipeline.Bus.PublishAsync(new BatchRetractionRequested("corrected", Reason: "test data", Source: "tests"));
        Assert.Equal(AlertStatus.Retracted, (await app.Pipeline.NextAlertAsync("corrected")).Status);

        using var retracted = await GetJsonAsync("/api/runs/corrected");
        using var none = await GetJsonAsync(days);
        Assert.Equal(JsonValueKind.Null, retracted.RootElement.GetProperty("in_force_version").ValueKind);
        Assert.Equal([(1, "Replaced", false), (2, "Retracted", false), (3, "Succeeded", false)], Versions(retracted));
        Assert.Empty(none.RootElement.GetProperty("rows").EnumerateArray());
    }

    private static List<(int Version, string? Status, bool InForce)> Versions(JsonDocument batch) =>
        batch.RootElement.GetProperty("versions").EnumerateArray()
            .Select(v => (v.GetProperty("version").GetInt32(), v.GetProperty("status").GetString(), v.GetProperty("in_force").GetBoolean()))
            .OrderBy(v => v.Item1)
            .ToList();

    [Fact]
    public async Task A_rejected_batch_shows_the_report_with_the_rule_file_line_column_and_value_the_engine_found()
    {
        using var batch = await GetJsonAsync($"/api/runs/{DashboardApp.RejectedBatch}");

        var version = Assert.Single(batch.RootElement.GetProperty("versions").EnumerateArray());
        Assert.Equal("Rejected", version.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, batch.RootElement.GetProperty("in_force_version").ValueKind);
        var report = version.GetProperty("rejection").GetProperty("report");
        var expected = app.RejectedReport.Errors[0];
        var error = report.GetProperty("errors")[0];
        Assert.Equal(expected.Rule, error.GetProperty("rule").GetString());
        Assert.Equal(expected.File, error.GetProperty("file").GetString());
        Assert.Equal(expected.Line, error.GetProperty("line").GetInt64());
        Assert.Equal(expected.Column, error.GetProperty("column").GetString());
        Assert.Equal(expected.Value, error.GetProperty("value").GetString());
        Assert.Equal(expected.Message, error.GetProperty("message").GetString());
        Assert.Equal(app.RejectedReport.ErrorCount, report.GetProperty("error_count").GetInt64());
    }

    [Fact]
    public async Task The_queues_answer_with_the_depth_of_every_service_queue_and_its_dead_letters()
    {
        using var json = await GetJsonAsync("/api/queues");

        Assert.Equal(
            ["pipeline-validate", "pipeline-manifest-events", "pipeline-transform", "pipeline-compute", "pipeline-notifier"],
            json.RootElement.EnumerateArray().Select(q => q.GetProperty("queue").GetString()));
        Assert.All(json.RootElement.EnumerateArray(), q =>
            Assert.Equal(["queue", "waiting", "in_flight", "dead_letters"], q.EnumerateObject().Select(p => p.Name)));
    }

    [SeedDataFact]
    public async Task Anomalies_lists_the_open_ones_and_the_seeds_last_day_a_day_of_a_few_orders_is_one()
    {
        // The seed's last day has a few orders (the export's last hour): far below the same weekday of the four weeks before.
        // (The generated stand-in's last day has items and no orders: a day that has not arrived is not judged.)
        var last = app.SeedKpis.OrderKpis[^1];
        using var json = await GetJsonAsync($"/api/anomalies?from={Day(LastDay)}&to={Day(LastDay)}");

        var orders = Assert.Single(json.RootElement.EnumerateArray(), a => a.GetProperty("figure").GetString() == "total_orders");
        Assert.Equal((Day(LastDay), (double)last.TotalOrders, DashboardApp.SeedBatch),
            (orders.GetProperty("order_date").GetString(), orders.GetProperty("value").GetDouble(), orders.GetProperty("batch_id").GetString()));
        Assert.True(orders.GetProperty("deviation").GetDouble() < -3.5);
        Assert.Equal(["order_date", "figure", "category", "value", "baseline", "spread", "deviation", "history", "batch_id", "version", "opened_at",
            "updated_at"], orders.EnumerateObject().Select(p => p.Name));
        using var before = await GetJsonAsync($"/api/anomalies?to={Day(LastDay.AddDays(-1))}");
        Assert.DoesNotContain(before.RootElement.EnumerateArray(), a => a.GetProperty("order_date").GetString() == Day(LastDay));
    }

    [Fact]
    public async Task The_openapi_document_describes_every_endpoint_and_its_parameters()
    {
        using var json = await GetJsonAsync("/openapi/v1.json");

        var paths = json.RootElement.GetProperty("paths");
        foreach (var path in new[]
            { "/api/kpis/daily", "/api/kpis/categories", "/api/runs", "/api/runs/{batch}", "/api/queues", "/api/freshness", "/api/anomalies" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is not in the OpenAPI document");
        }
        Assert.Equal(["from", "to", "category"],
            paths.GetProperty("/api/kpis/categories").GetProperty("get").GetProperty("parameters")
                .EnumerateArray()
                .Select(p => p.GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("/api/kpis/daily?from=2025-13-01", "from must be a date as yyyy-MM-dd")]
    [InlineData("/api/kpis/daily?to=yesterday", "to must be a date as yyyy-MM-dd")]
    [InlineData("/api/kpis/daily?from=2025-02-30", "from must be a date")]
    [InlineData("/api/kpis/daily?from=20250308", "from must be a date as yyyy-MM-dd")]
    [InlineData("/api/kpis/daily?from=2025-04-07&to=2025-03-08", "is after to")]
    [InlineData("/api/kpis/daily?from=0001-01-01&to=9999-12-31", "at most 1096 days")]
    [InlineData("/api/kpis/daily?form=2025-03-08", "unknown parameter 'form'")]
    [InlineData("/api/kpis/daily?category=Books", "unknown parameter 'category'")]
    [InlineData("/api/kpis/daily?from=2025-03-08&from=2025-03-09", "from is given 2 times")]
    [InlineData("/api/kpis/categories?category=", "category must be a category name")]
    [InlineData("/api/kpis/categories?category=%00", "category must be a category name")]
    [InlineData("/api/kpis/categories.csv?from=%E2%80%8B", "from must be a date")]
    [InlineData("/api/runs?limit=0", "limit must be a whole number from 1 to 500")]
    [InlineData("/api/runs?limit=-5", "limit must be a whole number")]
    [InlineData("/api/runs?limit=99999999999999999999", "limit must be a whole number")]
    [InlineData("/api/runs/..batch", "is not a batch name")]
    [InlineData("/api/freshness?day=2031-01-04", "unknown parameter 'day'")]
    [InlineData("/api/freshness?from=2031-01-05&to=2031-01-01", "is after to")]
    public async Task A_bad_parameter_is_a_400_that_says_what_is_wrong(string url, string message)
    {
        using var response = await app.Http.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(message, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_long_category_name_is_a_400_and_an_unknown_batch_a_404()
    {
        using var category = await app.Http.GetAsync($"/api/kpis/categories?category={new string('x', 201)}");
        using var batch = await app.Http.GetAsync("/api/runs/never-submitted");

        Assert.Equal(HttpStatusCode.BadRequest, category.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, batch.StatusCode);
    }

    [Theory]
    [InlineData("/api/kpis/daily?from=9999-12-31", "9999-12-31", "9999-12-31")]
    [InlineData("/api/kpis/daily?to=0001-01-10", "0001-01-01", "0001-01-10")]
    [InlineData("/api/kpis/daily?from=9999-12-01&to=9999-12-31", "9999-12-01", "9999-12-31")]
    [InlineData("/api/kpis/categories?from=9999-12-31", "9999-12-31", "9999-12-31")]
    [InlineData("/api/kpis/daily?to=2025-03-10", "2025-02-08", "2025-03-10")]
    public async Task A_range_with_one_end_is_31_days_from_it_up_to_the_ends_of_the_calendar(string url, string from, string to)
    {
        using var json = await GetJsonAsync(url);

        Assert.Equal((from, to), (json.RootElement.GetProperty("from").GetString(), json.RootElement.GetProperty("to").GetString()));
        var days = json.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("order_date").GetString()!).ToList();
        Assert.All(days, day => Assert.InRange(string.CompareOrdinal(day, from), 0, int.MaxValue));
        Assert.All(days, day => Assert.InRange(string.CompareOrdinal(day, to), int.MinValue, 0));
    }

    private async Task<JsonDocument> GetJsonAsync(string url)
    {
        using var response = await app.Http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }

    /// <summary>Money is read as a decimal straight from the JSON number: any loss on the way would show.</summary>
    private static OrderKpiRow OrderRow(JsonElement row) => new(
        DateOnly.ParseExact(row.GetProperty("order_date").GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture),
        row.GetProperty("total_orders").GetInt64(),
        row.GetProperty("total_revenue").GetDecimal(),
        row.GetProperty("total_items_sold").GetInt64(),
        row.GetProperty("return_rate").GetDouble(),
        row.GetProperty("unique_customers").GetInt64());

    private static CategoryKpiRow CategoryRow(JsonElement row) => new(
        row.GetProperty("category").GetString()!,
        DateOnly.ParseExact(row.GetProperty("order_date").GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture),
        row.GetProperty("daily_revenue").GetDecimal(),
        row.GetProperty("avg_order_value").GetDouble(),
        row.GetProperty("avg_return_rate").GetDouble());

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Csv(Action<TextWriter> write)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        write(text);
        return text.ToString();
    }
}
