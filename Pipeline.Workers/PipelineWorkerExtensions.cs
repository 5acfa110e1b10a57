using EventBus;
using EventBus.AwsSqs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Contracts;
using Pipeline.Storage;
using Pipeline.Topology;
using Pipeline.Topology.Access;
using Pipeline.Topology.Health;

namespace Pipeline.Workers;

public static class PipelineWorkerExtensions
{
    /// <summary>
    /// One of the pipeline's workers (Validate, Transform, Compute, Notifier), all in one shape: the topology and the storage,
    /// the stage template (<see cref="StageRunner"/>), the event bus receiving on the worker's own queue, and readiness that
    /// probes exactly what its access declaration names and waits for the warm-up (its AWS calls made once, the message
    /// types read once, and the engine run on a tiny batch when the worker runs it): the first batch after start-up costs
    /// what any batch costs. The worker adds its handlers, and what is its own, on the returned builder.
    /// </summary>
    /// <param name="worker">Which worker this is: its declaration in <see cref="PipelineServices"/>.</param>
    /// <param name="runsEngine">Whether the worker runs the engine (then it is warmed up too).</param>
    public static PipelineWorkerBuilder AddPipelineWorker(
        this IHostApplicationBuilder builder, Func<PipelineServices, ServiceAccess> worker, bool runsEngine = true)
    {
        var topology = builder.AddPipelineTopology();
        builder.Services.AddPipelineStorage();
        builder.Services.AddSingleton<StageRunner>();

        var access = worker(new PipelineServices(topology));
        var bus = builder.AddSqsEventBus(access.Name, options => (options.QueueName, options.TopicScope) = (access.EndpointQueue.Name, topology.TopicScope));
        builder.Services.AddHealthChecks().AddAccessChecks(topology, access);
        if (runsEngine)
        {
            builder.Services.AddWarmUp("engine", PipelineWarmUp.EngineAsync);
        }
        builder.Services.AddWarmUp("aws", (services, ct) => PipelineWarmUp.AwsAsync(services, access, ct));
        builder.Services.AddWarmUp("messages", (_, _) => Task.Run(() => EnvelopeSerializer.WarmUp(typeof(BatchSubmitted).Assembly.GetExportedTypes())));
        return new PipelineWorkerBuilder(bus, topology);
    }
}

/// <summary>What a worker adds to the shared shape: its handlers (one per message), and services of its own.</summary>
public sealed class PipelineWorkerBuilder(SqsEventBusBuilder bus, PipelineTopology topology)
{
    public PipelineTopology Topology => topology;

    public IServiceCollection Services => bus.Services;

    /// <summary>Handles <typeparamref name="TMessage"/>, published on its topic, with <typeparamref name="THandler"/>.</summary>
    public PipelineWorkerBuilder Handle<TMessage, THandler>()
        where TMessage : class
        where THandler : class, IIntegrationEventHandler<TMessage>
    {
        bus.AddSubscription<TMessage, THandler>();
        return this;
    }

    /// <summary>Handles the plain JSON bodies (no envelope, such as S3's event notifications) that arrive on <paramref name="queue"/>.</summary>
    public PipelineWorkerBuilder HandlePlainJson<TMessage, THandler>(QueueSpec queue)
        where TMessage : class
        where THandler : class, IIntegrationEventHandler<TMessage>
    {
        bus.AddPlainJsonQueue<TMessage, THandler>(queue.Name);
        return this;
    }
}
