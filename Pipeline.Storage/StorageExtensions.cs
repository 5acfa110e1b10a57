using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Keys;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;

namespace Pipeline.Storage;

public static class StorageExtensions
{
    /// <summary>The batch store (S3), the KPI store, the run records and the order key index (DynamoDB). Needs the AWS clients and the topology.</summary>
    public static IServiceCollection AddPipelineStorage(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<S3BatchStore>();
        services.TryAddSingleton<BatchUploader>();
        services.TryAddSingleton<DynamoKpiStore>();
        services.TryAddSingleton<PipelineRunStore>();
        services.TryAddSingleton<OrderKeyIndex>();
        return services;
    }
}
