using EventBus;
using Pipeline.Contracts;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Runs;

namespace Services.Transform.Handlers;

/// <summary>
/// The Transform stage: reads a validated batch from S3 and writes its orders and items, enriched with category and
/// order date and typed, as compact binary files under <c>transformed/&lt;batch&gt;/</c>; then announces them.
/// </summary>
public sealed partial class BatchValidatedHandler(
    S3BatchStore batches, PipelineRunStore runs, IEventBus bus, TimeProvider clock, ILogger<BatchValidatedHandler> logger) : IIntegrationEventHandler<BatchValidated>
{
    public async Task HandleAsync(BatchValidated validated, MessageContext context, CancellationToken cancellationToken)
    {
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["BatchId"] = validated.BatchId });
        using var activity = PipelineTelemetry.StartStage(Stages.Transform, validated.BatchId);
        var started = clock.GetUtcNow();
        await runs.RecordStageAsync(validated.BatchId, validated.ManifestETag, Stages.Transform,
            new StageRecord(Stages.Running, started, null, new Dictionary<string, long>()), cancellationToken).ConfigureAwait(false);

        var batch = await batches.OpenAsync(validated.Bucket, validated.ManifestKey, cancellationToken).ConfigureAwait(false);
        if (batch.ManifestETag != validated.ManifestETag)
        {
            // Another upload replaced the manifest after validation: that one has its own run; this one stops here.
            throw new InvalidOperationException(
                $"Batch {validated.BatchId} changed after validation (manifest ETag {batch.ManifestETag}, validated {validated.ManifestETag}).");
        }

        using var output = new EnrichedPartFiles();
        var result = await Task.Run(() => new BatchProcessor().Process(batches.ToEngineInput(batch), cancellationToken: cancellationToken, output: output), cancellationToken)
            .ConfigureAwait(false);
        if (!result.Accepted)
        {
            throw new InvalidOperationException($"Batch {validated.BatchId} no longer passes validation ({result.Report.ErrorCount} errors); it was changed in place.");
        }

        var prefix = $"{BatchLayout.TransformedPrefix}{validated.BatchId}/";
        var files = output.Files.Select(f => (f.Path, Key: prefix + Path.ChangeExtension(f.PartName, ".pen"))).ToList();
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (file, ct) => await batches.UploadFileAsync(validated.Bucket, file.Key, file.Path, progress: null, ct).ConfigureAwait(false)).ConfigureAwait(false);
        var keys = files.Select(f => f.Key).ToList();

        var orders = result.Report.RowsOf(TableKind.Orders);
        var items = result.Report.RowsOf(TableKind.OrderItems);
        var counts = new Dictionary<string, long> { ["orders"] = orders, ["order_items"] = items };
        await runs.RecordStageAsync(validated.BatchId, validated.ManifestETag, Stages.Transform, new StageRecord(Stages.Succeeded, started, clock.GetUtcNow(),
            new Dictionary<string, long>(counts) { ["files"] = keys.Count }), cancellationToken).ConfigureAwait(false);
        PipelineTelemetry.StageFinished(Stages.Transform, "succeeded", clock.GetUtcNow() - started, counts);
        LogTransformed(validated.BatchId, orders, items, keys.Count, clock.GetUtcNow() - started);

        await bus.PublishAsync(new BatchTransformed(validated.BatchId, validated.Bucket, validated.ManifestKey, validated.ManifestETag,
            prefix, keys, orders, items, clock.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: transformed {Orders} orders and {Items} items into {Files} files in {Elapsed}")]
    private partial void LogTransformed(string batchId, long orders, long items, int files, TimeSpan elapsed);
}
