using EventBus.AwsSqs;
using Pipeline.Contracts;
using Pipeline.Storage;
using Pipeline.Topology;
using Pipeline.Topology.Access;
using Pipeline.Topology.Health;
using Services.Validate.Handlers;
using Services.Validate.S3Events;
using Services.Validate.Verdicts;

namespace Services.Validate;

public static class ValidateServiceExtensions
{
    /// <summary>Validate reads batches from S3, takes submissions from its queue and from S3 events, and publishes the verdict.</summary>
    public static IHostApplicationBuilder AddValidateService(this IHostApplicationBuilder builder)
    {
        var topology = builder.AddPipelineTopology();
        builder.Services.AddPipelineStorage();
        builder.Services.AddSingleton<RejectionPublisher>();

        builder.AddSqsEventBus("validate", bus => (bus.QueueName, bus.TopicScope) = (topology.ValidateQueue.Name, topology.TopicScope))
            .AddSubscription<BatchSubmitted, BatchSubmittedHandler>()
            .AddPlainJsonQueue<S3EventNotification, ManifestCreatedHandler>(topology.ManifestEventsQueue.Name);

        var access = new PipelineServices(topology).Validate;
        builder.Services.AddHealthChecks().AddAccessChecks(topology, access);
        // Ready only once warm: the first batch after start-up costs what any batch costs.
        builder.Services.AddWarmUp("engine", PipelineWarmUp.EngineAsync);
        builder.Services.AddWarmUp("aws", (services, ct) => PipelineWarmUp.AwsAsync(services, access, ct));
        builder.Services.AddWarmUp("messages", (_, _) => Task.Run(() => EventBus.EnvelopeSerializer.WarmUp(typeof(BatchSubmitted).Assembly.GetExportedTypes())));
        return builder;
    }
}
