using System.Diagnostics;
using OpenTelemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Leaves the spans of a Blazor circuit's transport out of the export: each SignalR hub invocation (a render
/// acknowledged, a JavaScript call answered), which an open page that refreshes itself makes every few seconds. The
/// page views themselves (the circuit, each route, each event: ASP.NET Core's Components spans) are still traced.
/// </summary>
internal sealed class CircuitTransportFilter : BaseProcessor<Activity>
{
    /// <summary>The activity source of ASP.NET Core's SignalR hub invocations.</summary>
    public const string HubInvocations = "Microsoft.AspNetCore.SignalR.Server";

    public override void OnStart(Activity data)
    {
        if (data.Source.Name == HubInvocations)
        {
            // Not recorded: no exporter sends it, and nothing started under it is sampled.
            data.IsAllDataRequested = false;
            data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
        }
    }
}
