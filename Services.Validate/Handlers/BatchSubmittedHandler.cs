using EventBus;
using Pipeline.Contracts;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Validation;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Keys;
using Pipeline.Storage.Runs;
using Pipeline.Topology;
using Services.Validate.Verdicts;

namespace Services.Validate.Handlers;

/// <summary>
/// The Validate stage. Finds which upload a submission is about (its content: the manifest and every listed file, with
/// their ETags), takes it up as the batch's next version unless the latest version already has that content (then the
/// submission is a duplicate and ends here, without an alert), streams its files from S3 through the engine's rules,
/// claims its order ids, and publishes <see cref="BatchValidated"/> or <see cref="BatchRejected"/>. Anything wrong
/// with the batch is a rejection with a clear reason; its files are kept in <c>errors/&lt;batch&gt;/v&lt;n&gt;/</c>. A
/// submission that names no batch of this pipeline is poison: dead-lettered at once with the field named.
/// </summary>
public sealed partial class BatchSubmittedHandler(
    S3BatchStore batches, BatchProcessor processor, PipelineRunStore runs, OrderKeyIndex keys, RejectionPublisher rejections, IEventBus bus,
    PipelineTopology topology, TimeProvider clock, ILogger<BatchSubmittedHandler> logger) : IIntegrationEventHandler<BatchSubmitted>
{
    public async Task HandleAsync(BatchSubmitted message, MessageContext context, CancellationToken cancellationToken)
    {
        var submitted = Complete(message, context);
        var batchId = submitted.BatchId!;
        PipelineTelemetry.NameTrace(batchId);
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["BatchId"] = batchId });
        var upload = await IdentifyAsync(batchId, submitted, context.MessageId, cancellationToken).ConfigureAwait(false);
        if (upload is null)
        {
            return;
        }

        var begin = await runs.BeginUploadAsync(new UploadStart(batchId, submitted.ManifestKey, upload.Content.ManifestETag.Length == 0 ? null : upload.Content.ManifestETag,
            upload.Content.Id, upload.Content.ToJson(), submitted.Source!, submitted.SubmittedAt!.Value, context.MessageId), cancellationToken).ConfigureAwait(false);
        var run = begin.Run;
        if (begin.Kind == RunBeginKind.Duplicate)
        {
            LogDuplicate(batchId, run.Version, run.Status);
            await ArchiveIdenticalReuploadAsync(run, upload.Content, cancellationToken).ConfigureAwait(false);
            return;
        }

        switch (run.Status)
        {
            case RunStatus.Rejected:
                // This very message again, after the verdict was recorded: finish announcing it.
                await rejections.AnnounceAsync(run, upload.Content, cancellationToken).ConfigureAwait(false);
                return;
            case RunStatus.Running when run.Stages.GetValueOrDefault(Stages.Validate)?.Status == StageStatus.Succeeded:
                await PublishValidatedAsync(run, cancellationToken).ConfigureAwait(false);
                return;
            case RunStatus.Running:
                await ValidateAsync(run, upload, cancellationToken).ConfigureAwait(false);
                return;
            default:
                return; // the version went further (succeeded, superseded) before this redelivery: nothing left to do
        }
    }

    /// <summary>
    /// The submission with every optional fact in place (batch name from the key, source from the sender, time from the
    /// envelope), or a <see cref="PoisonMessageException"/> naming the required field that is missing or wrong, or the
    /// field that is longer than <see cref="FieldLimits"/> allows: such a message is wrong for good, so it is
    /// dead-lettered at once and reported, never retried.
    /// </summary>
    private BatchSubmitted Complete(BatchSubmitted message, MessageContext context)
    {
        var source = string.IsNullOrWhiteSpace(message.Source) ? context.SourceAddress?.ToString() : message.Source;
        if (FieldLimits.FirstTooLong(
                ("BatchSubmitted.batchId", message.BatchId, FieldLimits.BatchId), ("BatchSubmitted.bucket", message.Bucket, FieldLimits.Bucket),
                ("BatchSubmitted.manifestKey", message.ManifestKey, FieldLimits.Key), ("BatchSubmitted.manifestETag", message.ManifestETag, FieldLimits.ETag),
                (string.IsNullOrWhiteSpace(message.Source) ? "The envelope's sourceAddress" : "BatchSubmitted.source", source, FieldLimits.Source)) is { } tooLong)
        {
            throw new PoisonMessageException(tooLong);
        }
        if (string.IsNullOrWhiteSpace(message.ManifestKey))
        {
            throw new PoisonMessageException("BatchSubmitted.manifestKey is missing: it is required (data/<batch>/manifest_<batch>.json)");
        }
        if (string.IsNullOrWhiteSpace(message.Bucket))
        {
            throw new PoisonMessageException("BatchSubmitted.bucket is missing: it is required (the pipeline's bucket)");
        }
        string batchId;
        try
        {
            batchId = BatchLayout.BatchNameOf(message.ManifestKey);
        }
        catch (BatchLayoutException e)
        {
            throw new PoisonMessageException($"BatchSubmitted.manifestKey is invalid: {e.Message}");
        }
        if (message.Bucket != topology.Bucket.Name)
        {
            throw new PoisonMessageException($"BatchSubmitted.bucket is invalid: {message.Bucket} is not the pipeline's bucket ({topology.Bucket.Name})");
        }
        if (!string.IsNullOrEmpty(message.BatchId) && message.BatchId != batchId)
        {
            throw new PoisonMessageException($"BatchSubmitted.batchId is invalid: '{message.BatchId}' is not the batch of its manifest key ({batchId})");
        }
        return message with
        {
            BatchId = batchId,
            // As S3 headers give it, quoted, or bare as in S3 events: identities use the bare value.
            ManifestETag = message.ManifestETag is { } etag ? S3BatchStore.BareETag(etag) : null,
            SubmittedAt = message.SubmittedAt ?? context.SentTime ?? clock.GetUtcNow(),
            Source = source ?? "unknown producer",
        };
    }

    /// <summary>
    /// The upload a submission is about, or null when there is nothing to take up: a repeated submission of an upload
    /// already archived, or a submission whose manifest a newer upload has replaced (noted in the run history).
    /// </summary>
    private async Task<Upload?> IdentifyAsync(string batchId, BatchSubmitted submitted, string messageId, CancellationToken cancellationToken)
    {
        var manifest = await batches.ManifestAsync(submitted.Bucket, submitted.ManifestKey, cancellationToken).ConfigureAwait(false);
        if (manifest is null)
        {
            var history = await runs.GetHistoryAsync(batchId, cancellationToken).ConfigureAwait(false);
            var processed = submitted.ManifestETag is { } announced
                ? history?.Versions.FirstOrDefault(v => v.ManifestETag == announced)
                : history?.Latest is { IsFinished: true, ManifestETag: not null } latest ? latest : null;
            if (processed is not null)
            {
                LogAlreadyArchived(batchId, processed.Version, processed.Status);
                if (processed.Status == RunStatus.Rejected && processed.Content is { } content)
                {
                    // Its files were moved, but the delivery that did it may have died before announcing the verdict.
                    await rejections.AnnounceAsync(processed, BatchContent.FromJson(content), cancellationToken).ConfigureAwait(false);
                }
                return null;
            }
            if (submitted.ManifestETag is { } gone && history?.Versions.Any(v => v.Kind == RunKind.Upload && v.ManifestETag is not null) == true)
            {
                // Other uploads of the batch were processed and archived since: this one was overwritten before its turn.
                await NoteSupersededAsync(batchId, gone, submitted, cancellationToken).ConfigureAwait(false);
                return null;
            }
            return new Upload(BatchContent.Missing(submitted.ManifestKey), $"the manifest {submitted.ManifestKey} does not exist in bucket {submitted.Bucket}");
        }

        if (submitted.ManifestETag is { } etag && etag != manifest.ETag)
        {
            await NoteSupersededAsync(batchId, etag, submitted, cancellationToken).ConfigureAwait(false);
            return null;
        }

        try
        {
            var batch = await batches.OpenAsync(submitted.Bucket, submitted.ManifestKey, manifest.ETag, cancellationToken).ConfigureAwait(false);
            return new Upload(batch.Content, null);
        }
        catch (BatchLayoutException e)
        {
            if ((await batches.ManifestAsync(submitted.Bucket, submitted.ManifestKey, cancellationToken).ConfigureAwait(false))?.ETag != manifest.ETag)
            {
                // Archived (the manifest moves last) or replaced while it was being read: a file missing now says nothing about the upload.
                return await IdentifyAsync(batchId, submitted with { ManifestETag = manifest.ETag }, messageId, cancellationToken).ConfigureAwait(false);
            }
            if (await TakenUpAlreadyAsync(batchId, manifest, messageId, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
            // The manifest is all this upload can be known by: only it moves to errors/, the files stay for the next upload.
            return new Upload(new BatchContent(submitted.ManifestKey, manifest.ETag, []) { ManifestLastModified = manifest.LastModified }, e.Message, e.Rule);
        }
        catch (BatchChangedException)
        {
            await NoteSupersededAsync(batchId, manifest.ETag, submitted, cancellationToken).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>
    /// Whether a version already took this manifest up: then its files are missing because they are being archived, or
    /// were by a delivery that died half-way (the manifest moves last), not because a new upload is incomplete. A
    /// rejected version's archive and announcement are finished here, and so is the archive of an identical re-upload of
    /// a succeeded one; a running version's stage finishes its own — unless this message is the one that began it and the
    /// version is still in Validate (its delivery died before the verdict was recorded, and SQS delivers it again; a
    /// version in Validate has moved no file, since a rejection is recorded before its files move): then it takes it up.
    /// </summary>
    private async Task<bool> TakenUpAlreadyAsync(string batchId, ManifestVersion manifest, string messageId, CancellationToken cancellationToken)
    {
        var history = await runs.GetHistoryAsync(batchId, cancellationToken).ConfigureAwait(false);
        if (history?.Versions.LastOrDefault(v => v.Kind == RunKind.Upload && v.ManifestETag == manifest.ETag) is not { } known
            || (known.Status == RunStatus.Running && known.OwnerMessage == messageId
                && known.Stages.GetValueOrDefault(Stages.Validate)?.Status != StageStatus.Succeeded))
        {
            return false;
        }
        LogBeingArchived(batchId, known.Version, known.Status);
        if (known.Content is not { } json)
        {
            return true;
        }
        // The files of the manifest there now (the same upload, or the same files uploaded again) are the ones to move.
        var content = BatchContent.FromJson(json) with { ManifestLastModified = manifest.LastModified };
        if (known.Status == RunStatus.Rejected)
        {
            await rejections.AnnounceAsync(known, content, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await ArchiveIdenticalReuploadAsync(known, content, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    private async Task ValidateAsync(PipelineRun run, Upload upload, CancellationToken cancellationToken)
    {
        using var activity = PipelineTelemetry.StartStage(Stages.Validate, run.BatchId);
        var started = clock.GetUtcNow();
        if (await runs.StartStageAsync(run.BatchId, run.Version, Stages.Validate, cancellationToken).ConfigureAwait(false) is null)
        {
            return;
        }
        await using var heartbeat = runs.KeepAlive(run.BatchId, run.Version);
        if (upload.Problem is { } problem)
        {
            await rejections.RejectAsync(run, upload.Content, Verdict.Unreadable(upload.Content.ManifestKey, problem, upload.Rule), started, cancellationToken).ConfigureAwait(false);
            return;
        }

        var input = batches.ToEngineInput(topology.Bucket.Name, upload.Content.Files);
        BatchResult result;
        try
        {
            // The engine is synchronous and CPU-bound: keep it off the receive loop's threads.
            result = await Task.Run(() => processor.Process(input, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
            if ((await batches.ManifestAsync(topology.Bucket.Name, upload.Content.ManifestKey, cancellationToken).ConfigureAwait(false))?.ETag != upload.Content.ManifestETag)
            {
                throw new BatchChangedException($"the manifest {upload.Content.ManifestKey} was replaced while the batch was being validated");
            }
        }
        catch (BatchChangedException e)
        {
            await SupersedeAsync(run, e.Message, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!result.Accepted)
        {
            await rejections.RejectAsync(run, upload.Content, Verdict.Of(result.Report), started, cancellationToken).ConfigureAwait(false);
            return;
        }

        var claiming = clock.GetUtcNow();
        var claim = await keys.ClaimAsync(new KeyOwner(run.BatchId, run.Version), result.Keys!, IsLiveAsync, cancellationToken).ConfigureAwait(false);
        if (!claim.Claimed)
        {
            var located = await Task.Run(() => LocateConflicts(input, claim), cancellationToken).ConfigureAwait(false);
            await rejections.RejectAsync(run, upload.Content, Verdict.KeysCounted(result.Report, claim, located), started, cancellationToken).ConfigureAwait(false);
            return;
        }

        var rows = Verdict.RowCounts(result.Report);
        // What the order key check costs, for the run record (and the end-to-end benchmark).
        var counts = new Dictionary<string, long>(rows)
        {
            ["key_pages"] = claim.Pages.Count,
            ["key_check_ms"] = (long)(clock.GetUtcNow() - claiming).TotalMilliseconds,
        };
        await rejections.WriteReportAsync(run, result.Report, cancellationToken).ConfigureAwait(false);
        if (!await runs.RecordStageAsync(run.BatchId, run.Version, Stages.Validate,
                new StageRecord(StageStatus.Succeeded, started, clock.GetUtcNow(), counts), cancellationToken).ConfigureAwait(false))
        {
            return; // superseded or failed meanwhile: no verdict from this delivery
        }
        LogValidated(run.BatchId, run.Version, result.Report.RowsRead, clock.GetUtcNow() - started);
        PipelineTelemetry.StageFinished(Stages.Validate, "succeeded", clock.GetUtcNow() - started, rows);
        await PublishValidatedAsync((await runs.GetAsync(run.BatchId, run.Version, cancellationToken).ConfigureAwait(false))!, cancellationToken).ConfigureAwait(false);
    }

    private Task PublishValidatedAsync(PipelineRun run, CancellationToken cancellationToken)
    {
        var stage = run.Stages[Stages.Validate];
        return bus.PublishAsync(new BatchValidated(run.BatchId, topology.Bucket.Name, run.ManifestKey, run.Version, run.ContentId,
            BatchLayout.ReportKey(run.BatchId, run.Version, accepted: true),
            stage.Counts.GetValueOrDefault("orders"), stage.Counts.GetValueOrDefault("order_items"), stage.Counts.GetValueOrDefault("products"),
            clock.GetUtcNow()), cancellationToken);
    }

    /// <summary>Where the conflicting ids are in the batch's files (a second look at the orders and items parts, only for a rejection).</summary>
    private IReadOnlyList<ValidationError> LocateConflicts(BatchInput input, KeyClaim claim) =>
        claim.FirstConflicts.GroupBy(c => c.Kind).SelectMany(group => processor.LocateKeys(input,
            group.Key == KeyKind.Order ? TableKind.Orders : TableKind.OrderItems, ValidationRule.SeenInBatch,
            group.ToDictionary(c => c.Id, c => Verdict.CountedIn(c)))).ToList();

    /// <summary>A key holder still counts while its version may be (or is) in the KPIs.</summary>
    private async Task<bool> IsLiveAsync(KeyOwner holder, CancellationToken cancellationToken) =>
        await runs.GetAsync(holder.BatchId, holder.Version, cancellationToken).ConfigureAwait(false) is { Status: RunStatus.Running or RunStatus.Succeeded or RunStatus.Failed };

    private async Task SupersedeAsync(PipelineRun run, string reason, CancellationToken cancellationToken)
    {
        LogSuperseded(run.BatchId, run.Version, reason);
        await runs.SupersedeAsync(run.BatchId, run.Version, $"Superseded: {reason}; the newer upload is processed on its own submission.", null, Stages.Validate, cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task NoteSupersededAsync(string batchId, string manifestETag, BatchSubmitted submitted, CancellationToken cancellationToken)
    {
        LogSupersededAnnouncement(batchId, manifestETag, submitted.Source!);
        await runs.RecordSupersededAsync(batchId, new SupersededAnnouncement(manifestETag, submitted.Source!, submitted.SubmittedAt!.Value, clock.GetUtcNow()), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// The same content uploaded again after its version finished: its files are back under <c>data/</c>. They are the
    /// version's files, so they join its archive (where identical copies are already) instead of lingering.
    /// </summary>
    private async Task ArchiveIdenticalReuploadAsync(PipelineRun run, BatchContent content, CancellationToken cancellationToken)
    {
        var archive = run.Status switch
        {
            RunStatus.Succeeded => BatchLayout.ProcessedPrefix,
            RunStatus.Rejected => BatchLayout.ErrorsPrefix,
            _ => null,
        };
        if (archive is not null && content.ManifestETag.Length > 0)
        {
            await batches.ArchiveAsync(topology.Bucket.Name, run.BatchId, run.Version, content, archive, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>An upload as found: its content, and what makes it unreadable (or beyond a limit), if anything, with the rule it breaks.</summary>
    private sealed record Upload(BatchContent Content, string? Problem, string Rule = ValidationRule.UnreadableManifest);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} v{Version}: valid, {Rows} rows in {Elapsed}")]
    private partial void LogValidated(string batchId, int version, long rows, TimeSpan elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: same content as v{Version} ({Status}); nothing to do")]
    private partial void LogDuplicate(string batchId, int version, RunStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: this upload was processed as v{Version} ({Status}) and archived; nothing to do")]
    private partial void LogAlreadyArchived(string batchId, int version, RunStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: this upload is v{Version} ({Status}), whose files are being archived; nothing to take up")]
    private partial void LogBeingArchived(string batchId, int version, RunStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} v{Version}: superseded: {Reason}")]
    private partial void LogSuperseded(string batchId, int version, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: the upload with manifest ETag {ManifestETag} (from {Source}) was replaced by a newer upload before it could be processed")]
    private partial void LogSupersededAnnouncement(string batchId, string manifestETag, string source);
}
