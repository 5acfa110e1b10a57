using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Transform;

namespace Services.Transform.Handlers;

/// <summary>
/// The Transform stage: reads a validated version's files from S3 — exactly the ones validated (same ETags) — and
/// writes its orders and items, enriched with category and order date and typed, as compact binary files under
/// <c>transformed/&lt;batch&gt;/v&lt;n&gt;/</c>; then announces them. A version that is no longer running (finished,
/// superseded) is left alone; one whose files were replaced meanwhile is superseded by the newer upload.
/// </summary>
public sealed partial class BatchValidatedHandler(
    S3BatchStore batches, BatchProcessor processor, StageRunner stages, IEventBus bus, PipelineTopology topology, TimeProvider clock,
    ILogger<BatchValidatedHandler> logger) : IIntegrationEventHandler<BatchValidated>
{
    public async Task HandleAsync(BatchValidated validated, MessageContext context, CancellationToken cancellationToken)
    {
        if (validated.Bucket != topology.Bucket.Name)
        {
            // The files come from the run record; the bucket too must be the pipeline's, never one a message names.
            throw new PoisonMessageException($"BatchValidated.bucket is invalid: {validated.Bucket} is not the pipeline's bucket ({topology.Bucket.Name})");
        }
        using var batch = StageRunner.BeginBatch(logger, validated.BatchId);
        await stages.RunAsync(Stages.Transform, validated.BatchId, validated.Version, new StageWork(
            (stage, ct) => TransformAsync(validated, stage, ct),
            (run, ct) => AnnounceAgainIfTransformedAsync(validated, run, ct),
            run => RequireSameContent(validated, run)), cancellationToken).ConfigureAwait(false);
    }

    private static void RequireSameContent(BatchValidated validated, PipelineRun run)
    {
        if (run.ContentId != validated.ContentId || run.Content is null)
        {
            throw new PoisonMessageException(
                $"BatchValidated for {validated.BatchId} v{validated.Version} names content {validated.ContentId}, but the version's is {run.ContentId}");
        }
    }

    private async Task TransformAsync(BatchValidated validated, OpenStage stage, CancellationToken cancellationToken)
    {
        var content = BatchContent.FromJson(stage.Run.Content!);
        using var output = new EnrichedPartFiles();
        BatchResult result;
        try
        {
            var input = batches.ToEngineInput(validated.Bucket, content.Files);
            result = await Task.Run(() => processor.Process(input, cancellationToken: cancellationToken, output: output), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (BatchChangedException e)
        {
            await stage.SupersedeAsync(e.Message, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (!result.Accepted)
        {
            // The same bytes passed in Validate: only a bug (or an engine changed between the stages) gets here.
            throw new InvalidOperationException(
                $"Batch {validated.BatchId} v{validated.Version} no longer passes validation ({result.Report.ErrorCount} errors).");
        }

        // A few files per table, not one per part: each is a request to write and one to read, and files up to the size
        // of one upload request keep a large batch's uploads and Compute's reads spread over connections and cores.
        var prefix = BatchLayout.VersionFolder(BatchLayout.TransformedPrefix, validated.BatchId, validated.Version);
        var files = output.Combine(S3BatchStore.PartSize).Select(f => (f.Path, Key: prefix + f.Name)).ToList();
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (file, ct) => await batches.PutFileAsync(validated.Bucket, file.Key, file.Path, progress: null, ct).ConfigureAwait(false))
            .ConfigureAwait(false);
        var keys = files.Select(f => f.Key).ToList();

        var orders = result.Report.RowsOf(TableKind.Orders);
        var items = result.Report.RowsOf(TableKind.OrderItems);
        var counts = new Dictionary<string, long> { [TableNames.Orders] = orders, [TableNames.OrderItems] = items };
        if (await stage.PassAsync(new Dictionary<string, long>(counts) { ["files"] = keys.Count }, cancellationToken).ConfigureAwait(false) is null)
        {
            return; // superseded or failed meanwhile
        }
        stage.Finished("succeeded", counts);
        LogTransformed(validated.BatchId, validated.Version, orders, items, keys.Count, stage.Elapsed);
        await PublishTransformedAsync(validated, keys, orders, items, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A repeated message for a version already transformed: the first delivery may have died between recording its
    /// stage and announcing it, so while the version is still under way, announce its files again (Compute folds a
    /// version once however often it hears of it).
    /// </summary>
    private async Task AnnounceAgainIfTransformedAsync(BatchValidated validated, PipelineRun? run, CancellationToken cancellationToken)
    {
        LogNothingToDo(validated.BatchId, validated.Version);
        if (run is not { IsOpen: true } || !run.HasPassed(Stages.Transform))
        {
            return;
        }
        var keys = await batches.ListAsync(validated.Bucket, BatchLayout.VersionFolder(BatchLayout.TransformedPrefix, validated.BatchId, validated.Version),
            cancellationToken).ConfigureAwait(false);
        var counts = run.Stages[Stages.Transform].Counts;
        await PublishTransformedAsync(validated, keys, counts.GetValueOrDefault(TableNames.Orders), counts.GetValueOrDefault(TableNames.OrderItems),
            cancellationToken).ConfigureAwait(false);
    }

    private Task PublishTransformedAsync(BatchValidated validated, IReadOnlyList<string> keys, long orders, long items, CancellationToken cancellationToken) =>
        bus.PublishAsync(new BatchTransformed(validated.BatchId, validated.Bucket, validated.ManifestKey, validated.Version,
            BatchLayout.VersionFolder(BatchLayout.TransformedPrefix, validated.BatchId, validated.Version), keys, orders, items, clock.GetUtcNow()),
            cancellationToken);

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Batch {BatchId} v{Version}: transformed {Orders} orders and {Items} items into {Files} files in {Elapsed}")]
    private partial void LogTransformed(string batchId, int version, long orders, long items, int files, TimeSpan elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version}: transformed already, or no longer running; nothing to transform")]
    private partial void LogNothingToDo(string batchId, int version);
}
