using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Microsoft.Extensions.Hosting;

/// <summary>The activity source and meter of the pipeline's own spans and metrics, exported by <see cref="Extensions.ConfigureOpenTelemetry{TBuilder}"/>.</summary>
public static class PipelineTelemetry
{
    public const string Name = "Pipeline";

    /// <summary>The event bus's activity source and meter (EventBus.AwsSqs's <c>EventBusTelemetry.Name</c>).</summary>
    public const string EventBusName = "EventBus";

    public static readonly ActivitySource ActivitySource = new(Name);
    public static readonly Meter Meter = new(Name);
}
