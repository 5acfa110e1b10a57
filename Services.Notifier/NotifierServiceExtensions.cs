using EventBus.AwsSqs;
using Microsoft.Extensions.Options;
using Pipeline.Engine.DataQuality;
using Services.Notifier.Alerts;
using Services.Notifier.Failures;
using Services.Notifier.Freshness;
using Services.Notifier.Handlers;

namespace Services.Notifier;

public static class NotifierServiceExtensions
{
    /// <summary>
    /// Notifier turns outcomes, failures, late data (the freshness check), the anomalies of the KPIs that changed and
    /// reconciliations that found differences into alerts on the alerts topic.
    /// </summary>
    public static IHostApplicationBuilder AddNotifierService(this IHostApplicationBuilder builder)
    {
        var worker = builder.AddPipelineWorker(services => services.Notifier, runsEngine: false)
            .Handle<KpisUpdated, KpisChangedHandler<KpisUpdated>>()
            .Handle<BatchRejected, OutcomeHandler<BatchRejected>>()
            .Handle<BatchRetracted, KpisChangedHandler<BatchRetracted>>()
            .Handle<BatchRetractionRefused, OutcomeHandler<BatchRetractionRefused>>()
            .Handle<ReconciliationFinished, ReconciliationFinishedHandler>();

        worker.Services.AddSingleton<AlertPublisher>();
        // Alerts sent and dead letters reported are recorded here, so each goes out once.
        worker.Services.AddSingleton(services => new IdempotencyStore(services.GetRequiredService<Amazon.DynamoDBv2.IAmazonDynamoDB>(),
            worker.Topology.ProcessedMessagesTable.Name)
        {
            LeaseOutsideHandlers = TimeSpan.FromMinutes(1),
        });
        // A setting out of its range stops the service at start, naming it.
        builder.Services.AddOptions<AnomalyOptions>().BindConfiguration(AnomalyOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AnomalyOptions>, AnomalyOptionsValidation>();
        builder.Services.Configure<FailureWatcherOptions>(builder.Configuration.GetSection(FailureWatcherOptions.SectionName));
        builder.Services.AddHostedService<FailureWatcher>();
        builder.Services.AddOptions<FreshnessOptions>().BindConfiguration(FreshnessOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<FreshnessOptions>, FreshnessOptionsValidation>();
        builder.Services.AddHostedService<FreshnessWatcher>();
        return builder;
    }
}
