using EventBus;
using Pipeline.Contracts;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Validation;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Runs;
using Pipeline.Topology;

namespace Services.Validate.Handlers;

/// <summary>
/// The Validate stage: reads a submitted batch from S3, streams it through the engine's validation, writes the
/// report, and publishes <see cref="BatchValidated"/> or <see cref="BatchRejected"/>. Anything wrong with the batch
/// (a bad manifest, a missing file, a rule violated) is a rejection with a clear reason; the files are kept in errors/.
/// </summary>
public sealed partial class BatchSubmittedHandler(
    S3BatchStore batches, PipelineRunStore runs, IEventBus bus, PipelineTopology topology, TimeProvider clock, ILogger<BatchSubmittedHandler> logger) : IIntegrationEventHandler<BatchSubmitted>
{
    /// <summary>How many of the report's errors travel in the rejection message (the report has up to 100).</summary>
    private const int ErrorsInMessage = 10;

    public async Task HandleAsync(BatchSubmitted submitted, MessageContext context, CancellationToken cancellationToken)
    {
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["BatchId"] = submitted.BatchId });
        string batchId;
        try
        {
            batchId = BatchLayout.BatchNameOf(submitted.ManifestKey);
        }
        catch (BatchLayoutException e)
        {
            await PublishRejectedAsync(submitted.BatchId, submitted, etag: null, e.Message, [], 1, reportKey: null, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (submitted.Bucket != topology.Bucket.Name)
        {
            await PublishRejectedAsync(batchId, submitted, etag: null,
                $"bucket {submitted.Bucket} is not the pipeline's bucket ({topology.Bucket.Name})", [], 1, reportKey: null, cancellationToken).ConfigureAwait(false);
            return;
        }

        var etag = submitted.ManifestETag ?? await batches.ManifestETagAsync(submitted.Bucket, submitted.ManifestKey, cancellationToken).ConfigureAwait(false);
        if (etag is null && await runs.GetAsync(batchId, cancellationToken).ConfigureAwait(false) is { IsFinished: true } earlier)
        {
            // The manifest was archived by an earlier run: this is a re-submission of that batch.
            await ReportAlreadyProcessedAsync(earlier, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (etag is null)
        {
            await RejectAsync(batchId, submitted, etag: null, $"the manifest {submitted.ManifestKey} does not exist in bucket {submitted.Bucket}", cancellationToken).ConfigureAwait(false);
            return;
        }

        var (start, run) = await runs.BeginAsync(batchId, submitted.ManifestKey, etag, submitted.Source, cancellationToken).ConfigureAwait(false);
        if (start == RunStart.AlreadyProcessed)
        {
            await ReportAlreadyProcessedAsync(run, cancellationToken).ConfigureAwait(false);
            return;
        }

        using var activity = PipelineTelemetry.StartStage(Stages.Validate, batchId);
        var started = clock.GetUtcNow();
        await runs.RecordStageAsync(batchId, etag, Stages.Validate, new StageRecord(Stages.Running, started, null, new Dictionary<string, long>()), cancellationToken).ConfigureAwait(false);

        StoredBatch batch;
        try
        {
            batch = await batches.OpenAsync(submitted.Bucket, submitted.ManifestKey, cancellationToken).ConfigureAwait(false);
        }
        catch (BatchLayoutException e)
        {
            await RejectAsync(batchId, submitted, etag, e.Message, cancellationToken).ConfigureAwait(false);
            return;
        }

        // The engine is synchronous and CPU-bound: keep it off the receive loop's threads.
        var result = await Task.Run(() => new BatchProcessor().Process(batches.ToEngineInput(batch), cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
        var report = result.Report;
        var reportKey = await WriteReportAsync(submitted.Bucket, batchId, report, cancellationToken).ConfigureAwait(false);
        var counts = RowCounts(report);

        if (!report.Accepted)
        {
            await batches.ArchiveAsync(submitted.Bucket, batchId, batch.Files.Select(f => f.Key).Append(submitted.ManifestKey), BatchLayout.ErrorsPrefix, cancellationToken).ConfigureAwait(false);
            var firstErrors = report.Errors.Take(ErrorsInMessage).Select(Describe).ToList();
            var reason = Reason(report);
            await runs.RecordStageAsync(batchId, etag, Stages.Validate, new StageRecord(Stages.Failed, started, clock.GetUtcNow(), counts, reason), cancellationToken).ConfigureAwait(false);
            await runs.FinishAsync(batchId, etag, RunStatus.Rejected, $"Rejected: {reason}", cancellationToken).ConfigureAwait(false);
            PipelineTelemetry.StageFinished(Stages.Validate, "rejected", clock.GetUtcNow() - started, counts);
            await PublishRejectedAsync(batchId, submitted, etag, reason, firstErrors, report.ErrorCount, reportKey, cancellationToken).ConfigureAwait(false);
            return;
        }

        await runs.RecordStageAsync(batchId, etag, Stages.Validate, new StageRecord(Stages.Succeeded, started, clock.GetUtcNow(), counts), cancellationToken).ConfigureAwait(false);
        LogValidated(batchId, report.RowsRead, clock.GetUtcNow() - started);
        PipelineTelemetry.StageFinished(Stages.Validate, "succeeded", clock.GetUtcNow() - started, counts);
        await bus.PublishAsync(new BatchValidated(batchId, submitted.Bucket, submitted.ManifestKey, etag, reportKey,
            batch.Files.Select(f => f.Key).ToList(), counts["orders"], counts["order_items"], counts["products"], clock.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A batch that cannot be read at all: its files go to errors/ with a report that says why.</summary>
    private async Task RejectAsync(string batchId, BatchSubmitted submitted, string? etag, string reason, CancellationToken cancellationToken)
    {
        var report = new ValidationReport(false, 0, 1, [], [new ValidationError(submitted.ManifestKey, 0, null, null, "manifest", reason)]);
        var reportKey = await WriteReportAsync(submitted.Bucket, batchId, report, cancellationToken).ConfigureAwait(false);
        var keys = await batches.ListBatchKeysAsync(submitted.Bucket, batchId, cancellationToken).ConfigureAwait(false);
        await batches.ArchiveAsync(submitted.Bucket, batchId, keys, BatchLayout.ErrorsPrefix, cancellationToken).ConfigureAwait(false);
        if (etag is not null)
        {
            await runs.RecordStageAsync(batchId, etag, Stages.Validate, new StageRecord(Stages.Failed, clock.GetUtcNow(), clock.GetUtcNow(), new Dictionary<string, long>(), reason), cancellationToken).ConfigureAwait(false);
            await runs.FinishAsync(batchId, etag, RunStatus.Rejected, $"Rejected: {reason}", cancellationToken).ConfigureAwait(false);
        }
        await PublishRejectedAsync(batchId, submitted, etag, reason, [reason], 1, reportKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the report where the batch's files go (processed/ or errors/) and returns its key.</summary>
    private async Task<string> WriteReportAsync(string bucket, string batchId, ValidationReport report, CancellationToken cancellationToken)
    {
        var key = BatchLayout.ReportKey(batchId, report.Accepted);
        await batches.PutAsync(bucket, key, System.Text.Encoding.UTF8.GetBytes(ReportJson.Serialize(report)), "application/json", cancellationToken).ConfigureAwait(false);
        return key;
    }

    private Task PublishRejectedAsync(string batchId, BatchSubmitted submitted, string? etag, string reason,
        IReadOnlyList<string> firstErrors, long errorCount, string? reportKey, CancellationToken cancellationToken)
    {
        LogRejected(batchId, reason);
        return bus.PublishAsync(new BatchRejected(batchId, submitted.Bucket, submitted.ManifestKey, etag, reason, firstErrors, errorCount, reportKey, clock.GetUtcNow()), cancellationToken);
    }

    private Task ReportAlreadyProcessedAsync(PipelineRun run, CancellationToken cancellationToken)
    {
        LogAlreadyProcessed(run.BatchId, run.Status);
        return run.Status == RunStatus.Succeeded
            ? bus.PublishAsync(new KpisUpdated(run.BatchId, run.ManifestKey, run.ManifestETag, [], [], 0, 0, AlreadyApplied: true, clock.GetUtcNow()), cancellationToken)
            : bus.PublishAsync(new BatchRejected(run.BatchId, topology.Bucket.Name, run.ManifestKey, run.ManifestETag,
                $"already processed: {run.Summary ?? run.Status.ToString()}", [], 0, BatchLayout.ReportKey(run.BatchId, accepted: false), clock.GetUtcNow()), cancellationToken);
    }

    /// <summary>The one line of a rejection: the most frequent rule and where it first struck.</summary>
    private static string Reason(ValidationReport report)
    {
        var first = report.Errors.FirstOrDefault();
        var byRule = report.Files.SelectMany(f => f.ErrorCounts).GroupBy(c => c.Key).Select(g => (Rule: g.Key, Count: g.Sum(c => c.Value)))
            .OrderByDescending(r => r.Count).ToList();
        var rules = string.Join(", ", byRule.Take(3).Select(r => $"{r.Rule} ×{r.Count}"));
        return first is null
            ? $"{report.ErrorCount} validation errors ({rules})"
            : $"{report.ErrorCount} validation error{(report.ErrorCount == 1 ? "" : "s")} ({rules}); first: {Describe(first)}";
    }

    private static string Describe(ValidationError error) =>
        $"{error.File}{(error.Line > 0 ? $" line {error.Line}" : "")}{(error.Column is null ? "" : $" column {error.Column}")}: [{error.Rule}] {error.Message}";

    private static Dictionary<string, long> RowCounts(ValidationReport report) => new()
    {
        ["products"] = report.RowsOf(TableKind.Products),
        ["orders"] = report.RowsOf(TableKind.Orders),
        ["order_items"] = report.RowsOf(TableKind.OrderItems),
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: valid, {Rows} rows in {Elapsed}")]
    private partial void LogValidated(string batchId, long rows, TimeSpan elapsed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: rejected: {Reason}")]
    private partial void LogRejected(string batchId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: already processed ({Status}), nothing to do")]
    private partial void LogAlreadyProcessed(string batchId, RunStatus status);
}
