using Services.Validate.Validation;
using Services.Validate.Verdicts;

namespace Services.Validate.Uploads;

/// <summary>
/// What Validate does with a submission, however it arrives (a <see cref="BatchSubmitted"/> on the bus, an S3 event):
/// admits it (or refuses it as poison), finds which upload it is about, takes that upload up as the batch's next version
/// unless the latest version already has its content (then it is a duplicate and ends here, without an alert), and runs
/// the validate stage on it (<see cref="ValidateStage"/>).
/// </summary>
public sealed partial class SubmissionIntake(
    UploadIdentifier identifier, PipelineRunStore runs, ValidateStage validation, RejectionPublisher rejections, BatchArchive archive, StageRunner stages,
    IEventBus bus, PipelineTopology topology, TimeProvider clock, ILogger<SubmissionIntake> logger)
{
    public async Task TakeUpAsync(BatchSubmitted message, MessageContext context, CancellationToken cancellationToken)
    {
        var submission = Submission.Admit(message, context, topology.Bucket.Name, clock.GetUtcNow());
        using var batch = StageRunner.BeginBatch(logger, submission.BatchId);
        switch (await identifier.IdentifyAsync(submission, cancellationToken).ConfigureAwait(false))
        {
            case Identified.Overwritten overwritten:
                await NoteSupersededAsync(submission, overwritten.ManifestETag, cancellationToken).ConfigureAwait(false);
                return;
            case Identified.TakenUp { Version: { Status: RunStatus.Rejected } rejected, Content: { } content }:
                // Its files were moved, but the delivery that did it may have died before announcing the verdict.
                await rejections.AnnounceAsync(rejected, content, cancellationToken).ConfigureAwait(false);
                return;
            case Identified.TakenUp { Content: { } content } takenUp:
                await ArchiveRepeatedUploadAsync(takenUp.Version, content, cancellationToken).ConfigureAwait(false);
                return;
            case Identified.Upload upload:
                await TakeUpVersionAsync(submission, upload, cancellationToken).ConfigureAwait(false);
                return;
        }
    }

    private async Task TakeUpVersionAsync(Submission submission, Identified.Upload upload, CancellationToken cancellationToken)
    {
        var content = upload.Content;
        var manifestETag = content.ManifestETag.Length == 0 ? null : content.ManifestETag;
        var begin = await runs.BeginUploadAsync(new UploadStart(submission.BatchId, submission.ManifestKey, manifestETag, content.Id, content.ToJson(),
            submission.Source, submission.SubmittedAt, submission.MessageId), cancellationToken).ConfigureAwait(false);
        if (begin.Kind == RunBeginKind.Duplicate)
        {
            LogDuplicate(submission.BatchId, begin.Run.Version, begin.Run.Status);
            await ArchiveRepeatedUploadAsync(begin.Run, content, cancellationToken).ConfigureAwait(false);
            return;
        }
        await stages.RunAsync(Stages.Validate, submission.BatchId, begin.Run.Version, validation.Work(upload), cancellationToken).ConfigureAwait(false);
    }

    private async Task NoteSupersededAsync(Submission submission, string manifestETag, CancellationToken cancellationToken)
    {
        LogSupersededAnnouncement(submission.BatchId, manifestETag, submission.Source);
        var announcement = new SupersededAnnouncement(manifestETag, submission.Source, submission.SubmittedAt, clock.GetUtcNow());
        await runs.RecordSupersededAsync(submission.BatchId, announcement, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The same content uploaded again after its version finished: its files are back under <c>data/</c>. They are the
    /// version's files, so they join its archive (where identical copies are already) instead of lingering: a rejected
    /// version's in errors/, which is Validate's; an accepted one's in processed/, which is Compute's (it is told so).
    /// </summary>
    private async Task ArchiveRepeatedUploadAsync(PipelineRun run, BatchContent content, CancellationToken cancellationToken)
    {
        if (content.ManifestETag.Length == 0)
        {
            return; // no manifest: nothing was uploaded again
        }
        switch (run.Status)
        {
            case RunStatus.Rejected:
                await archive.ArchiveAsync(topology.Bucket.Name, run.BatchId, run.Version, content, BatchLayout.ErrorsPrefix, cancellationToken)
                    .ConfigureAwait(false);
                break;
            case RunStatus.Succeeded:
                var repeated = new BatchUploadRepeated(run.BatchId, topology.Bucket.Name, run.ManifestKey, run.Version, run.ContentId, clock.GetUtcNow());
                await bus.PublishAsync(repeated, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: same content as v{Version} ({Status}); nothing to do")]
    private partial void LogDuplicate(string batchId, int version, RunStatus status);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Batch {BatchId}: the upload with manifest ETag {ManifestETag} (from {Source}) was replaced by a newer upload before it could be processed")]
    private partial void LogSupersededAnnouncement(string batchId, string manifestETag, string source);
}
