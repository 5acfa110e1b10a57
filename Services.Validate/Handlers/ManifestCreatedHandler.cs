using System.Net;
using EventBus;
using Pipeline.Contracts;
using Pipeline.Storage.Batches;
using Services.Validate.S3Events;

namespace Services.Validate.Handlers;

/// <summary>
/// The AWS trigger: S3 tells the manifest-events queue that an object was created. Manifests become
/// <see cref="BatchSubmitted"/>; other objects (the batch's CSV parts, S3's test event) are ignored.
/// </summary>
public sealed partial class ManifestCreatedHandler(IEventBus bus, TimeProvider clock, ILogger<ManifestCreatedHandler> logger)
    : IIntegrationEventHandler<S3EventNotification>
{
    public async Task HandleAsync(S3EventNotification message, MessageContext context, CancellationToken cancellationToken)
    {
        foreach (var record in message.Records ?? [])
        {
            if (record is not { EventName: { } name, S3: { Bucket.Name: { } bucket, Object: { Key: { } encodedKey } s3Object } })
            {
                continue;
            }
            // S3 URL-encodes keys in events, with '+' for spaces.
            var key = WebUtility.UrlDecode(encodedKey);
            if (!name.StartsWith("ObjectCreated:", StringComparison.Ordinal) || !BatchLayout.IsManifestKey(key))
            {
                continue;
            }

            string batchId;
            try
            {
                batchId = BatchLayout.BatchNameOf(key);
            }
            catch (BatchLayoutException e)
            {
                LogNotABatch(key, e.Message); // data/x/manifest_y.json and the like: not a batch of this pipeline
                continue;
            }
            LogManifestCreated(batchId, bucket, key);
            PipelineTelemetry.NameTrace(batchId);
            await bus.PublishAsync(new BatchSubmitted(batchId, bucket, key, s3Object.ETag is { } etag ? S3BatchStore.BareETag(etag) : null, record.EventTime ?? clock.GetUtcNow(), "s3-event"),
                cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "S3 event for {Key} ignored: {Reason}")]
    private partial void LogNotABatch(string key, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: manifest s3://{Bucket}/{ManifestKey} created, submitting the batch")]
    private partial void LogManifestCreated(string batchId, string bucket, string manifestKey);
}
