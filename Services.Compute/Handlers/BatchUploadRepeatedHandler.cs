namespace Services.Compute.Handlers;

/// <summary>
/// Keeps the archive of accepted versions, which only Compute writes: the files of a version uploaded again unchanged
/// (Validate found the upload to be that version's content) join the version's folder — <c>processed/</c>, or
/// <c>retracted/</c> if it was retracted meanwhile — instead of lingering under <c>data/</c>. Exactly the version's files
/// move (same ETags, written no later than the manifest there now), the manifest last; nothing is processed again.
/// </summary>
public sealed partial class BatchUploadRepeatedHandler(S3BatchStore batches, BatchArchive archives, PipelineRunStore runs, PipelineTopology topology,
    ILogger<BatchUploadRepeatedHandler> logger) : IIntegrationEventHandler<BatchUploadRepeated>
{
    public async Task HandleAsync(BatchUploadRepeated repeated, MessageContext context, CancellationToken cancellationToken)
    {
        if (repeated.Bucket != topology.Bucket.Name)
        {
            throw new PoisonMessageException($"BatchUploadRepeated.bucket is invalid: {repeated.Bucket} is not the pipeline's bucket ({topology.Bucket.Name})");
        }
        if (!BatchLayout.IsBatchName(repeated.BatchId))
        {
            throw new PoisonMessageException("BatchUploadRepeated.batchId is invalid: it is not a batch name");
        }
        using var batch = StageRunner.BeginBatch(logger, repeated.BatchId);
        var run = await runs.GetAsync(repeated.BatchId, repeated.Version, cancellationToken).ConfigureAwait(false);
        var archive = run?.Status switch
        {
            RunStatus.Succeeded or RunStatus.Replaced => BatchLayout.ProcessedPrefix,
            RunStatus.Retracted => BatchLayout.RetractedPrefix,
            _ => null,
        };
        if (archive is null || run!.ContentId != repeated.ContentId || run.Content is not { } json
            || await batches.ManifestAsync(topology.Bucket.Name, run.ManifestKey, cancellationToken).ConfigureAwait(false) is not { } manifest)
        {
            LogNothingToArchive(repeated.BatchId, repeated.Version, run?.Status);
            return; // not that version's content, or archived already (the manifest moves last)
        }
        var content = BatchContent.FromJson(json) with { ManifestLastModified = manifest.LastModified };
        var moved = await archives.ArchiveAsync(topology.Bucket.Name, run.BatchId, run.Version, content, archive, cancellationToken).ConfigureAwait(false);
        LogArchived(repeated.BatchId, repeated.Version, moved.Count, archive);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Batch {BatchId} v{Version}: its files uploaded again moved to its archive ({Files} files, {Archive})")]
    private partial void LogArchived(string batchId, int version, int files, string archive);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version} ({Status}): no upload of it left to archive")]
    private partial void LogNothingToArchive(string batchId, int version, RunStatus? status);
}
