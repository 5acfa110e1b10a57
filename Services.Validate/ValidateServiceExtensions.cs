using Services.Validate.Handlers;
using Services.Validate.Uploads;
using Services.Validate.Validation;
using Services.Validate.Verdicts;

namespace Services.Validate;

public static class ValidateServiceExtensions
{
    /// <summary>Validate reads batches from S3, takes submissions from its queue and from S3 events, and publishes the verdict.</summary>
    public static IHostApplicationBuilder AddValidateService(this IHostApplicationBuilder builder)
    {
        var worker = builder.AddPipelineWorker(services => services.Validate)
            .Handle<BatchSubmitted, BatchSubmittedHandler>();
        worker.HandlePlainJson<S3EventNotification, ManifestCreatedHandler>(worker.Topology.ManifestEventsQueue);

        worker.Services.AddSingleton<UploadIdentifier>();
        worker.Services.AddSingleton<SubmissionIntake>();
        worker.Services.AddSingleton<ValidateStage>();
        worker.Services.AddSingleton<RejectionPublisher>();
        return builder;
    }
}
