using EventBus;
using Pipeline.Contracts;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Runs;
using Pipeline.Topology;

namespace Services.Transform.Handlers;

/// <summary>
/// The Transform stage: reads a validated version's files from S3 — exactly the ones validated (same ETags) — and
/// writes its orders and items, enriched with category and order date and typed, as compact binary files under
/// <c>transformed/&lt;batch&gt;/v&lt;n&gt;/</c>; then announces them. A version that is no longer running (finished,
/// superseded) is left alone; one whose files were replaced meanwhile is superseded by the newer upload.
/// </summary>
public sealed partial class BatchValidatedHandler(
    S3BatchStore batches, BatchProcessor processor, PipelineRunStore runs, IEventBus bus, PipelineTopology topology, TimeProvider clock,
    ILogger<BatchValidatedHandler> logger) : IIntegrationEventHandler<BatchValidated>
{
    public async Task HandleAsync(BatchValidated validated, MessageContext context, CancellationToken cancellationToken)
    {
        if (validated.Bucket != topology.Bucket.Name)
        {
            // The files come from the run record; the bucket too must be the pipeline's, never one a message names.
            throw new PoisonMessageException($"BatchValidated.bucket is invalid: {validated.Bucket} is not the pipeline's bucket ({topology.Bucket.Name})");
        }
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["BatchId"] = validated.BatchId });
        using var activity = PipelineTelemetry.StartStage(Stages.Transform, validated.BatchId);
        var started = clock.GetUtcNow();
        var run = await runs.StartStageAsync(validated.BatchId, validated.Version, Stages.Transform, cancellationToken).ConfigureAwait(false);
        if (run is null)
        {
            await AnnounceAgainIfTransformedAsync(validated, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (run.ContentId != validated.ContentId || run.Content is null)
        {
            throw new PoisonMessageException($"BatchValidated for {validated.BatchId} v{validated.Version} names content {validated.ContentId}, but the version's is {run.ContentId}");
        }

        await using var heartbeat = runs.KeepAlive(validated.BatchId, validated.Version);
        var content = BatchContent.FromJson(run.Content);
        using var output = new EnrichedPartFiles();
        BatchResult result;
        try
        {
            var input = batches.ToEngineInput(validated.Bucket, content.Files);
            result = await Task.Run(() => processor.Process(input, cancellationToken: cancellationToken, output: output), cancellationToken).ConfigureAwait(false);
        }
        catch (BatchChangedException e)
        {
            // Only while this is still the version's stage: once Compute began, its files were read already (and are being archived).
            LogSuperseded(validated.BatchId, validated.Version, e.Message);
            await runs.SupersedeAsync(validated.BatchId, validated.Version, $"Superseded: {e.Message}; the newer upload is processed on its own submission.", null,
                Stages.Transform, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (!result.Accepted)
        {
            // The same bytes passed in Validate: only a bug (or an engine changed between the stages) gets here.
            throw new InvalidOperationException($"Batch {validated.BatchId} v{validated.Version} no longer passes validation ({result.Report.ErrorCount} errors).");
        }

        var prefix = BatchLayout.VersionFolder(BatchLayout.TransformedPrefix, validated.BatchId, validated.Version);
        var files = output.Files.Select(f => (f.Path, Key: prefix + Path.ChangeExtension(f.PartName, ".pen"))).ToList();
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (file, ct) => await batches.UploadFileAsync(validated.Bucket, file.Key, file.Path, progress: null, ct).ConfigureAwait(false)).ConfigureAwait(false);
        var keys = files.Select(f => f.Key).ToList();

        var orders = result.Report.RowsOf(TableKind.Orders);
        var items = result.Report.RowsOf(TableKind.OrderItems);
        var counts = new Dictionary<string, long> { ["orders"] = orders, ["order_items"] = items };
        if (!await runs.RecordStageAsync(validated.BatchId, validated.Version, Stages.Transform, new StageRecord(StageStatus.Succeeded, started, clock.GetUtcNow(),
                new Dictionary<string, long>(counts) { ["files"] = keys.Count }), cancellationToken).ConfigureAwait(false))
        {
            return; // superseded or failed meanwhile
        }
        PipelineTelemetry.StageFinished(Stages.Transform, "succeeded", clock.GetUtcNow() - started, counts);
        LogTransformed(validated.BatchId, validated.Version, orders, items, keys.Count, clock.GetUtcNow() - started);

        await bus.PublishAsync(new BatchTransformed(validated.BatchId, validated.Bucket, validated.ManifestKey, validated.Version,
            prefix, keys, orders, items, clock.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A repeated message for a version already transformed: the first delivery may have died between recording its
    /// stage and announcing it, so while the version is still under way, announce its files again (Compute folds a
    /// version once however often it hears of it).
    /// </summary>
    private async Task AnnounceAgainIfTransformedAsync(BatchValidated validated, CancellationToken cancellationToken)
    {
        var run = await runs.GetAsync(validated.BatchId, validated.Version, cancellationToken).ConfigureAwait(false);
        LogNothingToDo(validated.BatchId, validated.Version);
        if (run is not { IsOpen: true } || run.Stages.GetValueOrDefault(Stages.Transform) is not { Status: StageStatus.Succeeded } stage)
        {
            return;
        }
        var prefix = BatchLayout.VersionFolder(BatchLayout.TransformedPrefix, validated.BatchId, validated.Version);
        var keys = await batches.ListAsync(validated.Bucket, prefix, cancellationToken).ConfigureAwait(false);
        await bus.PublishAsync(new BatchTransformed(validated.BatchId, validated.Bucket, validated.ManifestKey, validated.Version, prefix, keys,
            stage.Counts.GetValueOrDefault("orders"), stage.Counts.GetValueOrDefault("order_items"), clock.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version}: transformed {Orders} orders and {Items} items into {Files} files in {Elapsed}")]
    private partial void LogTransformed(string batchId, int version, long orders, long items, int files, TimeSpan elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version}: transformed already, or no longer running; nothing to transform")]
    private partial void LogNothingToDo(string batchId, int version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} v{Version}: superseded: {Reason}")]
    private partial void LogSuperseded(string batchId, int version, string reason);
}
