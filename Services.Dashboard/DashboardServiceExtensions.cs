using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection;
using Pipeline.Storage;
using Pipeline.Topology;
using Pipeline.Topology.Access;
using Pipeline.Topology.Health;
using Services.Dashboard.Api;
using Services.Dashboard.Components;
using Services.Dashboard.Live;
using Services.Dashboard.Reading;

namespace Services.Dashboard;

public static class DashboardServiceExtensions
{
    /// <summary>Configuration key of the Aspire dashboard's address, which the AppHost gives so a batch page can link to its trace.</summary>
    public const string TracesDashboardKey = "Dashboard:AspireDashboardUrl";

    /// <summary>
    /// The dashboard reads KPIs and their open anomalies, runs, reports and queue depths, and polls the latest alert to refresh its open pages.
    /// </summary>
    public static IHostApplicationBuilder AddDashboardService(this IHostApplicationBuilder builder)
    {
        var topology = builder.AddPipelineTopology();
        builder.Services.AddPipelineStorage();
        builder.Services.AddSingleton<PipelineChanges>();
        builder.Services.Configure<LatestAlertWatcherOptions>(builder.Configuration.GetSection(LatestAlertWatcherOptions.SectionName));
        builder.Services.AddHostedService<LatestAlertWatcher>();
        builder.Services.AddSingleton<KpiReader>();
        builder.Services.AddSingleton<AnomalyReader>();
        builder.Services.AddSingleton<RunReader>();
        builder.Services.AddSingleton<QueueDepthReader>();
        builder.Services.AddSingleton<FreshnessReader>();
        builder.Services.AddSingleton(new AspireDashboardLink(builder.Configuration[TracesDashboardKey]));

        builder.Services.AddHealthChecks().AddAccessChecks(topology, new PipelineServices(topology).Dashboard);

        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMemoryCache();
        builder.Services.AddSingleton<PrerenderedViews>();
        // Keys protect Blazor's circuit descriptors and antiforgery tokens. One task, a read-only file system, nothing
        // worth keeping across a restart (a reader's page reconnects): keys in memory.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        return builder;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapOpenApi();
        app.MapDashboardApi();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}

/// <summary>Where a batch's trace is when the AppHost runs it: the Aspire dashboard's traces page, filtered on the batch.</summary>
public sealed record AspireDashboardLink(string? BaseUrl)
{
    /// <summary>The stage spans carry <c>pipeline.batch.id</c>; the Aspire dashboard takes <c>field:condition:value</c> filters.</summary>
    public string? TracesOf(string batchId) => string.IsNullOrWhiteSpace(BaseUrl)
        ? null
        : $"{BaseUrl.TrimEnd('/')}/traces?filters={Uri.EscapeDataString($"pipeline.batch.id:equals:{Uri.EscapeDataString(batchId)}")}";
}
