using Pipeline.Topology;
using Pipeline.Topology.Health;

namespace Services.Notifier;

public static class NotifierServiceExtensions
{
    /// <summary>Notifier turns outcomes and failures into alerts on the alerts topic.</summary>
    public static IHostApplicationBuilder AddNotifierService(this IHostApplicationBuilder builder)
    {
        var topology = builder.AddPipelineTopology();
        builder.Services.AddHealthChecks()
            .AddQueue(topology.NotifierQueue)
            .AddTopic(topology.AlertsTopic)
            .AddTable(topology.PipelineRunsTable);
        return builder;
    }
}
