using Services.Compute.Handlers;

namespace Services.Compute;

public static class ComputeServiceExtensions
{
    /// <summary>Compute folds transformed batches into the KPI tables (and retracted ones out of them) and announces what changed.</summary>
    public static IHostApplicationBuilder AddComputeService(this IHostApplicationBuilder builder)
    {
        builder.AddPipelineWorker(services => services.Compute)
            .Handle<BatchTransformed, BatchTransformedHandler>()
            .Handle<BatchRetractionRequested, BatchRetractionRequestedHandler>()
            .Handle<BatchUploadRepeated, BatchUploadRepeatedHandler>();
        return builder;
    }
}
