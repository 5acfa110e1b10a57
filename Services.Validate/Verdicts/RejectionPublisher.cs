using Pipeline.Engine.Validation;

namespace Services.Validate.Verdicts;

/// <summary>
/// Rejects a version: the report in <c>errors/&lt;batch&gt;/v&lt;n&gt;/</c>, the run's transition to Rejected (one
/// conditional write: only one delivery wins it), then its files moved next to the report and
/// <see cref="BatchRejected"/> published — the last two also by a repeated delivery of the same message, since the first
/// may have died before them; the Notifier sends the alert once whatever it receives.
/// </summary>
public sealed partial class RejectionPublisher(
    S3BatchStore batches, BatchArchive archive, IEventBus bus, PipelineTopology topology, TimeProvider clock, ILogger<RejectionPublisher> logger)
{
    /// <summary>How many of the report's errors travel in the rejection (the report has up to 100).</summary>
    private const int ErrorsInMessage = 10;

    public async Task RejectAsync(OpenStage stage, BatchContent content, Verdict verdict, CancellationToken cancellationToken)
    {
        var reportKey = await WriteReportAsync(stage.Run, verdict.Report, cancellationToken).ConfigureAwait(false);
        var firstErrors = verdict.Report.Errors.Take(ErrorsInMessage).Select(Verdict.Describe).ToList();
        var rejection = new RejectionRecord(verdict.Reason, firstErrors, verdict.Report.ErrorCount, reportKey);
        var counts = Verdict.RowCounts(verdict.Report);
        if (await stage.RejectAsync(rejection, counts, cancellationToken).ConfigureAwait(false) == TransitionResult.Refused)
        {
            return; // superseded or failed meanwhile: that outcome stands
        }
        stage.Finished("rejected", counts);
        await AnnounceAsync(stage.Run with { Rejection = rejection }, content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>After the verdict is recorded: the version's files go to errors/ and the rejection is published. Safe to repeat.</summary>
    public async Task AnnounceAsync(PipelineRun run, BatchContent content, CancellationToken cancellationToken)
    {
        var rejection = run.Rejection ?? throw new InvalidOperationException($"Batch {run.BatchId} v{run.Version} has no recorded rejection.");
        await archive.ArchiveAsync(topology.Bucket.Name, run.BatchId, run.Version, content, BatchLayout.ErrorsPrefix, cancellationToken).ConfigureAwait(false);
        LogRejected(run.BatchId, run.Version, rejection.Reason);
        await bus.PublishAsync(new BatchRejected(run.BatchId, topology.Bucket.Name, run.ManifestKey, run.Version, rejection.Reason, rejection.FirstErrors,
            rejection.ErrorCount, rejection.ReportKey, clock.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the version's report where its files go (processed/ or errors/) and returns its key.</summary>
    public async Task<string> WriteReportAsync(PipelineRun run, ValidationReport report, CancellationToken cancellationToken)
    {
        var key = BatchLayout.ReportKey(run.BatchId, run.Version, report.Accepted);
        var body = System.Text.Encoding.UTF8.GetBytes(ReportJson.Serialize(report));
        await batches.PutAsync(topology.Bucket.Name, key, body, "application/json", cancellationToken).ConfigureAwait(false);
        return key;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} v{Version}: rejected: {Reason}")]
    private partial void LogRejected(string batchId, int version, string reason);

}
