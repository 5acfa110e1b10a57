using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.Kpis;
using Services.Dashboard.Live;
using Services.Dashboard.Reading;

namespace Services.Dashboard.Api;

/// <summary>
/// The read-only JSON API (documented at /openapi/v1.json). Field names are the KPI tables' own (order_date,
/// total_orders, ...), money is the stored decimal, and a bad parameter is a 400 that says what is wrong.
/// </summary>
public static class DashboardApi
{
    public const int DefaultRunCount = 50;
    public const int MaxRunCount = 500;

    private static readonly string[] KpiParameters = ["from", "to", "category"];

    public static IEndpointRouteBuilder MapDashboardApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Dashboard");

        api.MapGet("/kpis/daily", (HttpRequest request, KpiReader kpis,
                [Description("First day, yyyy-MM-dd (inclusive)")] string? from = null,
                [Description("Last day, yyyy-MM-dd (inclusive); with one end only, 31 days from it; " +
                    "with none, the last 31 days that have data")] string? to = null,
                CancellationToken ct = default) =>
            Answer(request, from, to, null, KpiParameters[..2], async asked =>
                TypedResults.Ok(await kpis.DailyAsync(await kpis.ResolveAsync(asked, ct), ct))))
            .WithSummary("Order KPIs per day")
            .WithDescription("Each day's total_orders, total_revenue, total_items_sold, return_rate (%) and unique_customers, ascending.");

        api.MapGet("/kpis/categories", (HttpRequest request, KpiReader kpis,
                [Description("First day, yyyy-MM-dd (inclusive)")] string? from = null,
                [Description("Last day, yyyy-MM-dd (inclusive)")] string? to = null,
                [Description("One category; all when absent")] string? category = null,
                CancellationToken ct = default) =>
            Answer(request, from, to, category, KpiParameters, async asked =>
                TypedResults.Ok(await kpis.CategoriesAsync(await kpis.ResolveAsync(asked, ct), asked.Category, ct))))
            .WithSummary("KPIs per category and day")
            .WithDescription("Each category's daily_revenue, avg_order_value and avg_return_rate (%) per day, by category then date.");

        api.MapGet("/kpis/daily.csv", (HttpRequest request, KpiReader kpis, string? from = null, string? to = null, CancellationToken ct = default) =>
            Answer(request, from, to, null, KpiParameters[..2], async asked =>
                Csv((w, rows) => KpiCsv.WriteOrderKpis(w, rows), (await kpis.DailyAsync(await kpis.ResolveAsync(asked, ct), ct)).Rows, "order_kpis.csv")))
            .WithSummary("Order KPIs per day as CSV (full precision, the columns of order_kpis.csv)");

        api.MapGet("/kpis/categories.csv", (HttpRequest request, KpiReader kpis, string? from = null, string? to = null, string? category = null,
                CancellationToken ct = default) =>
            Answer(request, from, to, category, KpiParameters, async asked =>
                Csv(
                    (w, rows) => KpiCsv.WriteCategoryKpis(w, rows),
                    (await kpis.CategoriesAsync(await kpis.ResolveAsync(asked, ct), asked.Category, ct)).Rows,
                    "category_kpis.csv")))
            .WithSummary("KPIs per category and day as CSV (full precision, the columns of category_kpis.csv)");

        api.MapGet("/freshness", (HttpRequest request, FreshnessReader freshness,
                [Description("First day, yyyy-MM-dd (inclusive)")] string? from = null,
                [Description("Last day, yyyy-MM-dd (inclusive); with one end only, 31 days from it; " +
                    "with none, the latest 31 days that have a verdict")] string? to = null,
                CancellationToken ct = default) =>
            Answer(request, from, to, null, KpiParameters[..2], async asked => TypedResults.Ok(await freshness.ReadAsync(asked, ct))))
            .WithSummary("Each day's freshness")
            .WithDescription("Per day with a verdict, ascending: status (on_time, late, recovered), deadline, noticed_at and late_noticed_at. " +
                "A day without a verdict is not due yet, before the feed's first day, or the check is off. See docs/data-quality.md.");

        api.MapGet("/anomalies", (HttpRequest request, AnomalyReader anomalies,
                [Description("First day, yyyy-MM-dd (inclusive); every day when absent")] string? from = null,
                [Description("Last day, yyyy-MM-dd (inclusive); every day when absent")] string? to = null,
                CancellationToken ct = default) =>
            Answer(request, from, to, null, KpiParameters[..2], async asked =>
                TypedResults.Ok(await anomalies.OpenAsync(asked.From, asked.To, ct))))
            .WithSummary("The open anomalies")
            .WithDescription("Each figure of a day that is far from its baseline now (docs/data-quality.md): order_date, figure, category " +
                "(for daily_revenue), value, baseline, spread, deviation (in spreads, signed), history (weeks it was judged on), and the " +
                "batch_id and version whose data made it so. A corrected or retracted batch that brings the figure back removes it.");

        api.MapGet("/runs", async (HttpRequest request, RunReader runs,
                [Description("How many of the newest versions (1-500, default 50)")] string? limit = null, CancellationToken ct = default) =>
        {
            if (UnknownParameter(request, ["limit"]) is { } unknown)
            {
                return (Results<Ok<RunsOverview>, ProblemHttpResult>)Invalid(unknown);
            }
            var count = DefaultRunCount;
            if (limit is not null
                && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out count)
                    || count is < 1 or > MaxRunCount))
            {
                return Invalid($"limit must be a whole number from 1 to {MaxRunCount}, not '{limit}'.");
            }
            return TypedResults.Ok(await runs.OverviewAsync(count, ct));
        })
        .WithSummary("The newest versions of any batch, and those running now");

        api.MapGet("/runs/{batch}", async (string batch, RunReader runs, CancellationToken ct) =>
            RunReader.WhyNotABatchName(batch) is { } notAName
                ? (Results<Ok<BatchDetail>, NotFound<ProblemDetails>, ProblemHttpResult>)Invalid(notAName)
                : await runs.BatchAsync(batch, ct) is { } detail
                    ? TypedResults.Ok(detail)
                    : TypedResults.NotFound(new ProblemDetails { Status = 404, Title = "No such batch", Detail = $"No run of batch {batch} is recorded." }))
            .WithSummary($"A batch's newest {RunReader.VersionsShown} versions (and the one in force): stages, status, which is in force, "
                + "and the validation report of a rejected one");

        api.MapGet("/queues", async (QueueDepthReader queues, CancellationToken ct) => TypedResults.Ok(await queues.ReadAsync(ct)))
            .WithSummary("Messages waiting and in flight on each service queue, and in its dead-letter queue");

        api.MapGet("/alerts/last", (PipelineChanges changes) => changes.LastAlert is { } last
                ? (Results<Ok<Alert>, NoContent>)TypedResults.Ok(last.Alert)
                : TypedResults.NoContent())
            .WithSummary("The newest alert the Notifier sent (204 when none yet)");

        return app;
    }

    /// <summary>
    /// Checks the parameters (unknown or repeated ones are refused: a typo must not silently give the default range),
    /// then answers; a bad parameter is a 400 saying what is wrong.
    /// </summary>
    private static async Task<Results<TAnswer, ProblemHttpResult>> Answer<TAnswer>(HttpRequest request, string? from, string? to, string? category,
        string[] allowed, Func<KpiRequest, Task<TAnswer>> answer) where TAnswer : IResult
    {
        if (UnknownParameter(request, allowed) is { } unknown)
        {
            return Invalid(unknown);
        }
        if (KpiRequest.Parse(from, to, category, out var error) is not { } asked)
        {
            return Invalid(error!);
        }
        return await answer(asked);
    }

    private static string? UnknownParameter(HttpRequest request, string[] allowed)
    {
        foreach (var (name, values) in request.Query)
        {
            if (!allowed.Contains(name, StringComparer.Ordinal))
            {
                return $"unknown parameter '{name}'; this endpoint takes {string.Join(", ", allowed)}.";
            }
            if (values.Count > 1)
            {
                return $"{name} is given {values.Count} times; give it once.";
            }
        }
        return null;
    }

    private static ProblemHttpResult Invalid(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");

    private static FileContentHttpResult Csv<TRow>(Action<TextWriter, IReadOnlyList<TRow>> write, IReadOnlyList<TRow> rows, string fileName)
    {
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        write(text, rows);
        return TypedResults.File(System.Text.Encoding.UTF8.GetBytes(text.ToString()), "text/csv; charset=utf-8", fileName);
    }
}
