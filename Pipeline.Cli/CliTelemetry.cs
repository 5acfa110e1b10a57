using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Pipeline.Cli;

/// <summary>
/// The command's spans. Each command that talks to the pipeline runs in a root span of its own (<c>submit 20250409</c>),
/// so the messages it publishes carry its trace context and the batch's trace starts at the command. Spans are always
/// recorded (the trace context goes out even with nothing listening) and exported by OTLP only when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the Aspire dashboard's, for one trace from submit to alert).
/// </summary>
internal static class CliTelemetry
{
    public const string ServiceName = "pipeline-cli";
    public const string SourceName = "Pipeline.Cli";
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The tracer provider of one command run: dispose it at the end, which sends what is left to export.</summary>
    public static TracerProvider Start()
    {
        var builder = Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .AddSource([SourceName, .. PipelineTelemetry.TraceSources])
            // The command is the root: its spans are always recorded, and the services follow its decision.
            .SetSampler(new AlwaysOnSampler());
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(EndpointVariable)))
        {
            builder.AddOtlpExporter();
        }
        return builder.Build();
    }

    /// <summary>Names the command's root span after what it works on: <c>submit 20250409</c>.</summary>
    public static void Name(string operation, string batchId)
    {
        if (Activity.Current is { } activity)
        {
            activity.DisplayName = $"{operation} {batchId}";
            activity.SetTag("pipeline.batch.id", batchId);
        }
    }
}
