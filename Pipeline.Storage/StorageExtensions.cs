using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pipeline.Engine.Batches;
using Pipeline.Storage.Alerts;
using Pipeline.Storage.Batches;
using Pipeline.Storage.DataQuality;
using Pipeline.Storage.Keys;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;

namespace Pipeline.Storage;

public static class StorageExtensions
{
    /// <summary>
    /// The batch store (S3), the KPI store and its queries, the run records, the order key index and the latest alert
    /// (DynamoDB), and the engine with the
    /// batch limits of the configuration section <see cref="BatchLimits.SectionName"/> (the defaults where it says
    /// nothing). Needs the AWS clients and the topology.
    /// </summary>
    public static IServiceCollection AddPipelineStorage(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        // A limit that is not a positive number stops the service at start, naming the setting.
        services.AddOptions<BatchLimits>().BindConfiguration(BatchLimits.SectionName).Validate(limits => limits.Validated() == limits).ValidateOnStart();
        services.TryAddSingleton(provider => provider.GetRequiredService<IOptions<BatchLimits>>().Value);
        services.TryAddSingleton(provider => new BatchProcessor(new EngineOptions { Limits = provider.GetRequiredService<BatchLimits>() }));
        services.TryAddSingleton<S3BatchStore>();
        services.TryAddSingleton<BatchArchive>();
        services.TryAddSingleton<BatchUploader>();
        services.TryAddSingleton<DynamoKpiStore>();
        services.TryAddSingleton<KpiQueries>();
        services.TryAddSingleton<PipelineRunStore>();
        services.TryAddSingleton<OrderKeyIndex>();
        services.TryAddSingleton<LatestAlertStore>();
        services.TryAddSingleton<FreshnessStore>();
        services.TryAddSingleton<AnomalyStore>();
        return services;
    }
}
