using EventBus.AwsSqs;
using Pipeline.Contracts;
using Pipeline.Storage;
using Pipeline.Topology;
using Pipeline.Topology.Access;
using Pipeline.Topology.Health;
using Services.Notifier.Alerts;
using Services.Notifier.Failures;
using Services.Notifier.Handlers;

namespace Services.Notifier;

public static class NotifierServiceExtensions
{
    /// <summary>Notifier turns outcomes and failures into alerts on the alerts topic.</summary>
    public static IHostApplicationBuilder AddNotifierService(this IHostApplicationBuilder builder)
    {
        var topology = builder.AddPipelineTopology();
        builder.Services.AddPipelineStorage();
        builder.Services.AddSingleton<AlertPublisher>();
        // Alerts sent and dead letters reported are recorded here, so each goes out once.
        builder.Services.AddSingleton(services => new IdempotencyStore(services.GetRequiredService<Amazon.DynamoDBv2.IAmazonDynamoDB>(), topology.ProcessedMessagesTable.Name)
        {
            LeaseOutsideHandlers = TimeSpan.FromMinutes(1),
        });
        builder.Services.Configure<FailureWatcherOptions>(builder.Configuration.GetSection(FailureWatcherOptions.SectionName));
        builder.Services.AddHostedService<FailureWatcher>();

        builder.AddSqsEventBus("notifier", bus => (bus.QueueName, bus.TopicScope) = (topology.NotifierQueue.Name, topology.TopicScope))
            .AddSubscription<KpisUpdated, KpisUpdatedHandler>()
            .AddSubscription<BatchRejected, BatchRejectedHandler>()
            .AddSubscription<BatchRetracted, BatchRetractedHandler>();

        var access = new PipelineServices(topology).Notifier;
        builder.Services.AddHealthChecks().AddAccessChecks(topology, access);
        // Ready only once warm: the first batch after start-up costs what any batch costs.
        builder.Services.AddWarmUp("aws", (services, ct) => PipelineWarmUp.AwsAsync(services, access, ct));
        builder.Services.AddWarmUp("messages", (_, _) => Task.Run(() => EventBus.EnvelopeSerializer.WarmUp(typeof(BatchSubmitted).Assembly.GetExportedTypes())));
        return builder;
    }
}
