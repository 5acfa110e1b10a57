using System.Globalization;
using Pipeline.Contracts;

namespace Services.Notifier.Alerts;

/// <summary>Turns pipeline outcomes into alerts a person can act on. Pure: no I/O.</summary>
public static class AlertComposer
{
    /// <summary>SNS subjects are limited to 100 characters.</summary>
    private const int MaxSubjectLength = 100;

    public static Alert Succeeded(KpisUpdated update)
    {
        if (update.AlreadyApplied)
        {
            return new Alert(AlertStatus.Succeeded, update.BatchId, update.ManifestKey,
                Subject($"Batch {update.BatchId} already processed"),
                $"Batch {update.BatchId} ({update.ManifestKey}) was submitted again with the same content. " +
                "It had been processed before, so nothing changed.");
        }

        var days = update.Days.Count == 0 ? "no day"
            : update.Days.Count == 1 ? update.Days[0].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : $"{update.Days.Count} days ({update.Days.Min():yyyy-MM-dd} to {update.Days.Max():yyyy-MM-dd})";
        return new Alert(AlertStatus.Succeeded, update.BatchId, update.ManifestKey,
            Subject($"Batch {update.BatchId} processed: KPIs updated for {days}"),
            $"Batch {update.BatchId} ({update.ManifestKey}) was validated, transformed and folded into the KPIs: " +
            $"{update.OrderKpiRows} daily rows and {update.CategoryKpiRows} category rows over {days}, " +
            $"{update.Categories.Count} categories ({string.Join(", ", update.Categories.Take(10))}{(update.Categories.Count > 10 ? ", ..." : "")}).");
    }

    public static Alert Rejected(BatchRejected rejection)
    {
        var errors = rejection.FirstErrors.Count == 0 ? ""
            : $" First errors: {string.Join("; ", rejection.FirstErrors.Take(5))}{(rejection.ErrorCount > 5 ? $" (and {rejection.ErrorCount - 5} more)" : "")}.";
        var report = rejection.ReportKey is null ? "" : $" The full report is at s3://{rejection.Bucket}/{rejection.ReportKey}.";
        return new Alert(AlertStatus.Rejected, rejection.BatchId, rejection.ManifestKey,
            Subject($"Batch {rejection.BatchId} rejected: {rejection.Reason}"),
            $"Batch {rejection.BatchId} ({rejection.ManifestKey}) was rejected and its files were moved to errors/{rejection.BatchId}/: " +
            $"{rejection.Reason}.{errors}{report} Fix the data and submit the batch again.");
    }

    /// <summary>A stage gave up on a batch (its message was dead-lettered after all retries).</summary>
    public static Alert DeadLettered(string batchId, string manifestKey, string stage, string? error) =>
        new(AlertStatus.Failed, batchId, manifestKey,
            Subject($"Batch {batchId} failed in {stage}"),
            $"Batch {batchId} ({manifestKey}) failed in the {stage} stage after every retry" +
            $"{(error is null ? "" : $": {error}")}. Its message is kept in the {stage} dead-letter queue; " +
            "fix the cause, then run `pipeline dlq redrive` to process it again.");

    /// <summary>A batch made no progress for longer than the stall timeout.</summary>
    public static Alert Stalled(string batchId, string manifestKey, string? stage, DateTimeOffset lastProgress, TimeSpan timeout) =>
        new(AlertStatus.Failed, batchId, manifestKey,
            Subject($"Batch {batchId} stuck in {stage ?? "the queue"}"),
            $"Batch {batchId} ({manifestKey}) has made no progress in {stage ?? "any stage"} since {lastProgress:yyyy-MM-dd HH:mm:ss} UTC " +
            $"(more than {timeout.TotalMinutes:0.#} minutes). Check that the {stage ?? "pipeline"} service is running and look at its logs " +
            "and dead-letter queue (`pipeline status`, `pipeline dlq list`).");

    private static string Subject(string text) => text.Length <= MaxSubjectLength ? text : text[..(MaxSubjectLength - 3)] + "...";
}
