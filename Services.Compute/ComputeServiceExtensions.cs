using Pipeline.Topology;
using Pipeline.Topology.Health;

namespace Services.Compute;

public static class ComputeServiceExtensions
{
    /// <summary>Compute folds transformed batches into the KPI tables and announces what changed.</summary>
    public static IHostApplicationBuilder AddComputeService(this IHostApplicationBuilder builder)
    {
        var topology = builder.AddPipelineTopology();
        builder.Services.AddHealthChecks()
            .AddBucket(topology.Bucket)
            .AddQueue(topology.ComputeQueue)
            .AddTable(topology.CategoryKpisTable)
            .AddTable(topology.OrderKpisTable)
            .AddTopic(topology.KpisUpdatedTopic)
            .AddTable(topology.PipelineRunsTable);
        return builder;
    }
}
