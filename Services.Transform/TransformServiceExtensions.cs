using EventBus.AwsSqs;
using Pipeline.Contracts;
using Pipeline.Storage;
using Pipeline.Topology;
using Pipeline.Topology.Access;
using Pipeline.Topology.Health;
using Services.Transform.Handlers;

namespace Services.Transform;

public static class TransformServiceExtensions
{
    /// <summary>Transform reads validated batches from S3, writes the enriched data back and announces it.</summary>
    public static IHostApplicationBuilder AddTransformService(this IHostApplicationBuilder builder)
    {
        var topology = builder.AddPipelineTopology();
        builder.Services.AddPipelineStorage();

        builder.AddSqsEventBus("transform", bus => (bus.QueueName, bus.TopicScope) = (topology.TransformQueue.Name, topology.TopicScope))
            .AddSubscription<BatchValidated, BatchValidatedHandler>();

        var access = new PipelineServices(topology).Transform;
        builder.Services.AddHealthChecks().AddAccessChecks(topology, access);
        // Ready only once warm: the first batch after start-up costs what any batch costs.
        builder.Services.AddWarmUp("engine", PipelineWarmUp.EngineAsync);
        builder.Services.AddWarmUp("aws", (services, ct) => PipelineWarmUp.AwsAsync(services, access, ct));
        builder.Services.AddWarmUp("messages", (_, _) => Task.Run(() => EventBus.EnvelopeSerializer.WarmUp(typeof(BatchSubmitted).Assembly.GetExportedTypes())));
        return builder;
    }
}
