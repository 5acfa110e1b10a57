using Services.Validate.Uploads;

namespace Services.Validate.Handlers;

/// <summary>
/// The AWS trigger: S3 tells the manifest-events queue that an object was created. Each manifest created is a submission,
/// taken up here as every submission is (<see cref="SubmissionIntake"/>), with the source <c>s3-event</c>; other objects
/// (S3's test event, a key shaped like a manifest that names no batch) are ignored.
/// </summary>
public sealed partial class ManifestCreatedHandler(SubmissionIntake intake, ILogger<ManifestCreatedHandler> logger)
    : IIntegrationEventHandler<S3EventNotification>
{
    private const string Source = "s3-event";

    public async Task HandleAsync(S3EventNotification message, MessageContext context, CancellationToken cancellationToken)
    {
        foreach (var record in message.Records ?? [])
        {
            if (record is not { IsObjectCreated: true, ManifestKey: { } key, S3.Bucket.Name: { } bucket })
            {
                continue;
            }
            try
            {
                BatchLayout.BatchNameOf(key);
            }
            catch (BatchLayoutException e)
            {
                LogNotABatch(key, e.Message); // data/x/manifest_y.json and the like: not a batch of this pipeline
                continue;
            }
            var etag = record.S3.Object?.ETag is { } quoted ? S3BatchStore.BareETag(quoted) : null;
            await intake.TakeUpAsync(new BatchSubmitted(null, bucket, key, etag, record.EventTime, Source), context, cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "S3 event for {Key} ignored: {Reason}")]
    private partial void LogNotABatch(string key, string reason);
}
