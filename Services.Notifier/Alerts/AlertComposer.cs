using System.Globalization;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.DataQuality;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.DataQuality;

namespace Services.Notifier.Alerts;

/// <summary>
/// Turns pipeline outcomes into alerts a person can act on. Pure: no I/O. Each alert's id names the outcome it
/// reports (a version's success, rejection or retraction; a refused retraction request; a failure of one attempt; one
/// dead letter), so the same
/// outcome always gives the same id and is sent once.
/// </summary>
public static class AlertComposer
{
    /// <summary>SNS subjects are limited to 100 characters.</summary>
    private const int MaxSubjectLength = 100;

    /// <summary>The batch name of reconciliation alerts: they are about the KPI tables, not one batch (no batch may be named so).</summary>
    public const string ReconciliationSubject = "(reconciliation)";

    /// <summary>The messages that announce an outcome, each turned into its alert by <see cref="ForOutcome"/>.</summary>
    public static IReadOnlyList<Type> Outcomes { get; } = [typeof(KpisUpdated), typeof(BatchRejected), typeof(BatchRetracted), typeof(BatchRetractionRefused)];

    /// <summary>The alert an outcome message announces; null for any other message, and for a rejection that names no version.</summary>
    public static Alert? ForOutcome(object message) => message switch
    {
        KpisUpdated update => Succeeded(update),
        BatchRejected { Version: not null } rejection => Rejected(rejection),
        BatchRetracted retraction => Retracted(retraction, BatchLayout.ManifestKey(retraction.BatchId)),
        BatchRetractionRefused refusal => RetractionRefused(refusal),
        _ => null,
    };

    public static Alert Succeeded(KpisUpdated update)
    {
        var days = Days(update.Days);
        var replaced = update.ReplacedVersions.Count == 0 ? ""
            : $" It replaces version {string.Join(", ", update.ReplacedVersions)} of the batch, whose data is no longer counted.";
        var categories = update.Categories.Count == 0 ? "."
            : $", {update.Categories.Count} categories ({string.Join(", ", update.Categories.Take(10))}{(update.Categories.Count > 10 ? ", ..." : "")}).";
        return new Alert(AlertStatus.Succeeded, update.BatchId, update.Version, update.ManifestKey,
            Subject($"Batch {update.BatchId} processed: KPIs updated for {days}"),
            $"Batch {update.BatchId} (version {update.Version}, {update.ManifestKey}) was validated, transformed and folded into the KPIs: " +
            $"{update.OrderKpiRows} daily rows and {update.CategoryKpiRows} category rows over {days}" +
            categories +
            replaced,
            Id(update.BatchId, update.Version, "succeeded"));
    }

    /// <summary>A version that Validate rejected (<paramref name="rejection"/> names it).</summary>
    public static Alert Rejected(BatchRejected rejection)
    {
        var version = rejection.Version ?? throw new ArgumentException("A rejection names the version it rejected.", nameof(rejection));
        var errors = rejection.FirstErrors.Count == 0 ? ""
            : $" First errors: {string.Join("; ", rejection.FirstErrors.Take(5))}" +
                $"{(rejection.ErrorCount > 5 ? $" (and {rejection.ErrorCount - 5} more)" : "")}.";
        var report = rejection.ReportKey is null ? "" : $" The full report is at s3://{rejection.Bucket}/{rejection.ReportKey}.";
        return new Alert(AlertStatus.Rejected, rejection.BatchId, version, rejection.ManifestKey,
            Subject($"Batch {rejection.BatchId} rejected: {rejection.Reason}"),
            $"Batch {rejection.BatchId} (version {version}, {rejection.ManifestKey}) was rejected and its files were moved to " +
            $"errors/{rejection.BatchId}/v{version}/: {rejection.Reason}.{errors}{report} Fix the data and submit the batch again.",
            Id(rejection.BatchId, version, "rejected"));
    }

    /// <summary>
    /// A retraction request that was not carried out (nothing changed): a rejection of the request, which has no version of
    /// its own, so its id names the request instead (one alert per request).
    /// </summary>
    public static Alert RetractionRefused(BatchRetractionRefused refusal)
    {
        var manifestKey = BatchLayout.IsBatchName(refusal.BatchId) ? BatchLayout.ManifestKey(refusal.BatchId) : refusal.BatchId;
        var reason = $"retraction refused: {refusal.Reason}";
        return new Alert(AlertStatus.Rejected, refusal.BatchId, null, manifestKey,
            Subject($"Batch {refusal.BatchId} rejected: {reason}"),
            $"Batch {refusal.BatchId} ({manifestKey}): {reason}.",
            $"{refusal.BatchId}/refused/{refusal.RequestId}");
    }

    public static Alert Retracted(BatchRetracted retraction, string manifestKey) =>
        new(AlertStatus.Retracted, retraction.BatchId, retraction.Version, manifestKey,
            Subject($"Batch {retraction.BatchId} retracted: KPIs updated for {Days(retraction.Days)}"),
            $"Version {retraction.RetractedVersion} of batch {retraction.BatchId} was retracted" +
            (string.IsNullOrWhiteSpace(retraction.Reason) ? "" : $" ({retraction.Reason})") +
            $": its data is no longer counted in the KPIs of {Days(retraction.Days)}. Its files were moved to {retraction.ArchiveFolder}.",
            Id(retraction.BatchId, retraction.Version, "retracted"));

    /// <summary>A version that failed: a stage gave up on it (dead letter), or it made no progress for too long. One alert per attempt.</summary>
    public static Alert Failed(PipelineRun run) =>
        new(AlertStatus.Failed, run.BatchId, run.Version, run.ManifestKey,
            Subject($"Batch {run.BatchId} failed in {run.CurrentStage ?? "the pipeline"}"),
            run.Summary ?? $"Batch {run.BatchId} (version {run.Version}) failed.",
            Id(run.BatchId, run.Version, $"failed-{run.Attempt.ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>What a failed version's record says, for its alert: the stage that gave up, with the error.</summary>
    public static string DeadLetteredSummary(PipelineRun run, string queue, string? error) =>
        $"Batch {run.BatchId} (version {run.Version}, {run.ManifestKey}) failed in the {run.CurrentStage ?? "pipeline"} stage after every retry" +
        $"{(error is null ? "" : $": {error}")}. Its message is kept in the dead-letter queue of {queue}; " +
        "fix the cause, then run `pipeline dlq redrive` to process it again.";

    /// <summary>What a stalled version's record says.</summary>
    public static string StalledSummary(PipelineRun run, TimeSpan timeout) =>
        $"Batch {run.BatchId} (version {run.Version}, {run.ManifestKey}) has made no progress in {run.CurrentStage ?? "any stage"} since " +
        $"{run.UpdatedAt:yyyy-MM-dd HH:mm:ss} UTC (more than {timeout.TotalMinutes:0.#} minutes). Check that the {run.CurrentStage ?? "pipeline"} service is " +
        "running and look at its logs and dead-letter queue (`pipeline status`, `pipeline dlq list`). If it resumes, a new alert says so.";

    /// <summary>
    /// What a dead letter about a version that had already ended means. Compute finishes a version's work after its
    /// outcome is recorded (the curated Parquet brought to the version in force, then the announcement), so its message
    /// dead-lettered after a success is work left undone, which a redrive does; any other is no longer needed.
    /// </summary>
    public static string EndedVersionNote(PipelineRun run, bool computeMessage) =>
        computeMessage && run.Status == RunStatus.Succeeded
            ? $"Version {run.Version} of the batch had already succeeded, but Compute could not finish what follows: bringing the batch's " +
              "curated Parquet (curated/order_items/) to its version in force and announcing it. A redrive of this message does both."
            : $"Version {run.Version} of the batch had already ended ({run.Status}); the pipeline does not need this message any more.";

    /// <summary>A dead letter that belongs to no running version (a poison message, a message for a version already finished).</summary>
    public static Alert DeadLetter(string queue, string messageId, string? batchId, string? note, string? error) =>
        new(AlertStatus.Failed, batchId ?? "(unknown)", null, "",
            Subject($"Message dead-lettered in {queue}{(batchId is null ? "" : $" (batch {batchId})")}"),
            $"A message{(batchId is null ? "" : $" about batch {batchId}")} was moved to the dead-letter queue of {queue}" +
            $"{(error is null ? "" : $": {error}")}.{(note is null ? "" : $" {note}")} Look at it with `pipeline dlq list`; redrive it " +
            "with `pipeline dlq redrive` once the cause is fixed, or delete it if it is not needed.",
            $"deadletter/{queue}/{messageId}");

    /// <summary>A day with no accepted batch by its deadline (docs/data-quality.md, Freshness); one alert each time the day is found late.</summary>
    public static Alert Late(DayFreshness day) =>
        new(AlertStatus.Late, FreshnessSubject(day.Day), null, "",
            Subject($"Data for {Day(day.Day)} is late: no accepted batch by {Instant(day.Deadline)}"),
            $"No accepted batch covers {Day(day.Day)}: its orders were expected by {Instant(day.Deadline)} (freshness deadline) and were not " +
            $"there at {Instant(day.NoticedAt)}. Check that the day's feed ran and look for a rejected or failed batch (`pipeline status`); " +
            "a batch that covers the day sends a Recovered alert.",
            $"{FreshnessSubject(day.Day)}/late-{day.Lapses.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>A late day that an accepted batch now covers.</summary>
    public static Alert Recovered(DayFreshness day) =>
        new(AlertStatus.Recovered, FreshnessSubject(day.Day), null, "",
            Subject($"Data for {Day(day.Day)} arrived: recovered after its deadline {Instant(day.Deadline)}"),
            $"An accepted batch now covers {Day(day.Day)}, found at {Instant(day.NoticedAt)}: its orders were expected by {Instant(day.Deadline)} " +
            $"and were found missing at {(day.LateNoticedAt is { } late ? Instant(late) : "the deadline")}. Its KPIs are complete again.",
            $"{FreshnessSubject(day.Day)}/recovered-{day.Lapses.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>What a freshness alert is about, in the place of a batch: <c>freshness/2025-03-08</c>.</summary>
    public static string FreshnessSubject(DateOnly day) => $"{FreshnessStore.Check}/{Day(day)}";

    /// <summary>
    /// A figure of a day that a version's data made anomalous (<see cref="AnomalyStore"/>): one alert per figure and day
    /// while it stays open, its id naming the version that opened it. Clearing it sends nothing.
    /// </summary>
    public static Alert Anomaly(AnomalyState anomaly, AnomalyOptions options)
    {
        var key = anomaly.Key;
        var day = FigureKey.DayText(key.Day);
        var change = anomaly.Baseline == 0 ? "" : $" ({(anomaly.Value - anomaly.Baseline) / Math.Abs(anomaly.Baseline):+0.0 %;-0.0 %})";
        var manifestKey = BatchLayout.ManifestKey(anomaly.BatchId);
        return new Alert(AlertStatus.Anomaly, anomaly.BatchId, anomaly.Version, manifestKey,
            Subject($"Anomaly on {day}: {key.Label} is {Figure(key, anomaly.Value)}, expected about {Figure(key, anomaly.Baseline)}"),
            $"On {day} ({key.Day.DayOfWeek}) {key.Label} is {Figure(key, anomaly.Value)}{change}; its baseline, the median of the {anomaly.History} " +
            $"{key.Day.DayOfWeek}s before it over {options.Weeks} weeks, is {Figure(key, anomaly.Baseline)}. That is " +
            $"{Math.Abs(anomaly.Deviation).ToString("0.00", CultureInfo.InvariantCulture)} spreads of {Figure(key, anomaly.Spread)} " +
            $"{(anomaly.Deviation < 0 ? "below" : "above")} it (the threshold is {options.Threshold.ToString(CultureInfo.InvariantCulture)}). " +
            $"The figure changed with batch {anomaly.BatchId} (version {anomaly.Version}, {manifestKey}). If its data is wrong, upload a corrected " +
            "version of the batch or retract it: the anomaly clears when the figure is back within its band.",
            $"anomaly/{key.Subject}/{anomaly.BatchId}/v{anomaly.Version.ToString(CultureInfo.InvariantCulture)}");
    }

    private static string Figure(FigureKey key, double value) => key.Figure switch
    {
        KpiFigure.TotalOrders or KpiFigure.TotalItemsSold => value.ToString("0.##", CultureInfo.InvariantCulture),
        KpiFigure.ReturnRate => value.ToString("0.##", CultureInfo.InvariantCulture) + " %",
        _ => value.ToString("0.00", CultureInfo.InvariantCulture),
    };

    /// <summary>What a reconciliation found (<c>pipeline reconcile --publish</c>): one alert per reconciliation run.</summary>
    public static Alert Reconciliation(ReconciliationFinished result)
    {
        var days = result.From is { } from && result.To is { } to ? $"{result.Days} days ({from:yyyy-MM-dd} to {to:yyyy-MM-dd})" : "no day with data";
        var id = $"{ReconciliationSubject}/{result.RunId}";
        if (result.Equal)
        {
            return new Alert(AlertStatus.Reconciled, ReconciliationSubject, null, "",
                Subject($"KPIs reconciled with the archive: {days} equal"),
                $"The KPI tables equal the engine's recomputation from the archive of the {result.Batches} batches in force over {days}.", id);
        }
        var more = result.Differences > result.FirstDifferences.Count ? $" (and {result.Differences - result.FirstDifferences.Count} more)" : "";
        return new Alert(AlertStatus.ReconciliationFailed, ReconciliationSubject, null, "",
            Subject($"KPIs differ from the archive: {result.Differences} differences over {days}"),
            $"A reconciliation of the KPI tables with the engine's recomputation from the archive of the {result.Batches} batches in force over {days} " +
            $"found {result.Differences} differences: {string.Join("; ", result.FirstDifferences)}{more}. Run `pipeline reconcile` for the whole report; " +
            "`pipeline rebuild --from D1 --to D2` rewrites the rows of those days through the fold and reconciles again (docs/data-quality.md).",
            id);
    }

    private static string Id(string batchId, int version, string outcome) => $"{batchId}/v{version.ToString(CultureInfo.InvariantCulture)}/{outcome}";

    private static string Days(IReadOnlyList<DateOnly> days) => days.Count == 0 ? "no day"
        : days.Count == 1 ? days[0].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
        : $"{days.Count} days ({days.Min():yyyy-MM-dd} to {days.Max():yyyy-MM-dd})";

    private static string Day(DateOnly day) => KpiCsv.Format(day);

    private static string Instant(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    private static string Subject(string text) => text.Length <= MaxSubjectLength ? text : text[..(MaxSubjectLength - 3)] + "...";
}
