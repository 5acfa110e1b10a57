using Services.Transform.Handlers;

namespace Services.Transform;

public static class TransformServiceExtensions
{
    /// <summary>Transform reads validated batches from S3, writes the enriched data back and announces it.</summary>
    public static IHostApplicationBuilder AddTransformService(this IHostApplicationBuilder builder)
    {
        builder.AddPipelineWorker(services => services.Transform)
            .Handle<BatchValidated, BatchValidatedHandler>();
        return builder;
    }
}
