using EventBus.AwsSqs;
using Services.Notifier.Alerts;
using Services.Notifier.Failures;
using Services.Notifier.Handlers;

namespace Services.Notifier;

public static class NotifierServiceExtensions
{
    /// <summary>Notifier turns outcomes and failures into alerts on the alerts topic.</summary>
    public static IHostApplicationBuilder AddNotifierService(this IHostApplicationBuilder builder)
    {
        var worker = builder.AddPipelineWorker(services => services.Notifier, runsEngine: false)
            .Handle<KpisUpdated, OutcomeHandler<KpisUpdated>>()
            .Handle<BatchRejected, OutcomeHandler<BatchRejected>>()
            .Handle<BatchRetracted, OutcomeHandler<BatchRetracted>>()
            .Handle<BatchRetractionRefused, OutcomeHandler<BatchRetractionRefused>>()
            .Handle<ReconciliationFinished, ReconciliationFinishedHandler>();

        worker.Services.AddSingleton<AlertPublisher>();
        // Alerts sent and dead letters reported are recorded here, so each goes out once.
        worker.Services.AddSingleton(services => new IdempotencyStore(services.GetRequiredService<Amazon.DynamoDBv2.IAmazonDynamoDB>(),
            worker.Topology.ProcessedMessagesTable.Name)
        {
            LeaseOutsideHandlers = TimeSpan.FromMinutes(1),
        });
        builder.Services.Configure<FailureWatcherOptions>(builder.Configuration.GetSection(FailureWatcherOptions.SectionName));
        builder.Services.AddHostedService<FailureWatcher>();
        return builder;
    }
}
