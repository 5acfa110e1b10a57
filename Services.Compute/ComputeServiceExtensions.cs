using Microsoft.Extensions.Options;
using Pipeline.Storage;
using Pipeline.Storage.Curated;
using Services.Compute.Handlers;

namespace Services.Compute;

public static class ComputeServiceExtensions
{
    /// <summary>
    /// Compute folds transformed batches into the KPI tables (and retracted ones out of them), keeps their Parquet under
    /// <c>curated/</c> (unless the section <see cref="CuratedOptions.SectionName"/> says <c>Enabled: false</c>) and announces what changed.
    /// </summary>
    public static IHostApplicationBuilder AddComputeService(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CuratedOptions>().BindConfiguration(CuratedOptions.SectionName);
        builder.Services.AddSingleton<CuratedPublisher>();
        builder.Services.AddWarmUp("curated", (services, ct) =>
            services.GetRequiredService<IOptions<CuratedOptions>>().Value.Enabled ? PipelineWarmUp.CuratedAsync(ct) : Task.CompletedTask);
        builder.AddPipelineWorker(services => services.Compute)
            .Handle<BatchTransformed, BatchTransformedHandler>()
            .Handle<BatchRetractionRequested, BatchRetractionRequestedHandler>()
            .Handle<BatchUploadRepeated, BatchUploadRepeatedHandler>();
        return builder;
    }
}
