using EventBus.AwsSqs;
using Pipeline.Contracts;
using Pipeline.Storage;
using Pipeline.Topology;
using Pipeline.Topology.Access;
using Pipeline.Topology.Health;
using Services.Compute.Folding;
using Services.Compute.Handlers;

namespace Services.Compute;

public static class ComputeServiceExtensions
{
    /// <summary>Compute folds transformed batches into the KPI tables (and retracted ones out of them) and announces what changed.</summary>
    public static IHostApplicationBuilder AddComputeService(this IHostApplicationBuilder builder)
    {
        var topology = builder.AddPipelineTopology();
        builder.Services.AddPipelineStorage();
        builder.Services.AddSingleton<InForceRecorder>();

        builder.AddSqsEventBus("compute", bus => (bus.QueueName, bus.TopicScope) = (topology.ComputeQueue.Name, topology.TopicScope))
            .AddSubscription<BatchTransformed, BatchTransformedHandler>()
            .AddSubscription<BatchRetractionRequested, BatchRetractionRequestedHandler>();

        var access = new PipelineServices(topology).Compute;
        builder.Services.AddHealthChecks().AddAccessChecks(topology, access);
        // Ready only once warm: the first batch after start-up costs what any batch costs.
        builder.Services.AddWarmUp("engine", PipelineWarmUp.EngineAsync);
        builder.Services.AddWarmUp("aws", (services, ct) => PipelineWarmUp.AwsAsync(services, access, ct));
        builder.Services.AddWarmUp("messages", (_, _) => Task.Run(() => EventBus.EnvelopeSerializer.WarmUp(typeof(BatchSubmitted).Assembly.GetExportedTypes())));
        return builder;
    }
}
