using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using ServiceDefaults.Aws;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every process of the system shares: telemetry, health checks, service discovery, resilience and the AWS clients.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    /// <summary>The tag of the checks <c>/alive</c> reports (liveness); <c>/health</c> reports every check.</summary>
    public const string LiveTag = "live";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        builder.AddAwsClients();
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Polly logs every successful HTTP attempt at Information; keep its retries and failures only.
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(PipelineTelemetry.Name, PipelineTelemetry.EventBusName))
            .WithTracing(tracing => tracing
                .AddSource([builder.Environment.ApplicationName, .. PipelineTelemetry.TraceSources])
                .AddAspNetCoreInstrumentation(aspnet =>
                    // Health probes every few seconds would drown the traces that matter.
                    aspnet.Filter = context =>
                        !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                        && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath))
                .AddHttpClientInstrumentation(http => http.FilterHttpRequestMessage = _ => PipelineTelemetry.TraceHttpCall(Activity.Current))
                .AddProcessor(new CircuitTransportFilter()));

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddSingleton<StartupGate>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StartupGate>());
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag])
            .Add(new HealthCheckRegistration(StartupGate.HealthCheckName, sp => sp.GetRequiredService<StartupGate>(), HealthStatus.Unhealthy, [LiveTag]));
        return builder;
    }

    /// <summary>The checks <c>/health</c> reports: all but the start-up gate, which exists for <c>/alive</c>.</summary>
    internal static bool IsReadinessCheck(HealthCheckRegistration check) => check.Name != StartupGate.HealthCheckName;

    /// <summary>
    /// <c>/health</c>: the readiness checks, the AWS resources the service depends on among them (what the AppHost waits for);
    /// while the service is starting (warming up), "not ready" without running them (<see cref="StartupGate.IsStarting"/>).
    /// <c>/alive</c>: the process itself, once it has been ready since start-up (liveness; what ECS and the load balancer check).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        var gate = app.Services.GetRequiredService<StartupGate>();
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions { Predicate = IsReadinessCheck })
            .Add(endpoint => endpoint.RequestDelegate = NotReadyWhileStarting(gate, endpoint.RequestDelegate!));
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) });
        return app;
    }

    /// <summary>The readiness endpoint <paramref name="checks"/>, answering 503 <c>Unhealthy</c> by itself while the service starts.</summary>
    private static RequestDelegate NotReadyWhileStarting(StartupGate gate, RequestDelegate checks) => context =>
    {
        if (!gate.IsStarting)
        {
            return checks(context);
        }
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.CacheControl = "no-store, no-cache";
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(nameof(HealthStatus.Unhealthy), context.RequestAborted);
    };
}
