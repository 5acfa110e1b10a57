using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.DataQuality;
using Pipeline.Storage.DataQuality;
using Pipeline.Storage.Runs;
using Services.Notifier.Alerts;

namespace Services.Tests;

/// <summary>The alerts a person reads: their status, subject, text and the id that makes each one outcome (AlertComposer, pure).</summary>
public class AlertComposerTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Day = new(2025, 4, 9);

    [Fact]
    public void A_success_names_the_days_the_rows_the_categories_and_the_versions_it_replaced()
    {
        var categories = Enumerable.Range(1, 12).Select(i => $"c{i:D2}").ToList();
        var update = new KpisUpdated("20250409", "data/20250409/manifest_20250409.json", 2, [1], [Day, Day.AddDays(2), Day.AddDays(1)], categories, 36, 3, At);

        var alert = AlertComposer.Succeeded(update);

        Assert.Equal((AlertStatus.Succeeded, "20250409", (int?)2, "data/20250409/manifest_20250409.json", "20250409/v2/succeeded"),
            (alert.Status, alert.BatchId, alert.Version, alert.ManifestKey, alert.AlertId));
        Assert.Equal("Batch 20250409 processed: KPIs updated for 3 days (2025-04-09 to 2025-04-11)", alert.Subject);
        Assert.Equal("Batch 20250409 (version 2, data/20250409/manifest_20250409.json) was validated, transformed and folded into the KPIs: " +
            "3 daily rows and 36 category rows over 3 days (2025-04-09 to 2025-04-11), " +
            "12 categories (c01, c02, c03, c04, c05, c06, c07, c08, c09, c10, ...). " +
            "It replaces version 1 of the batch, whose data is no longer counted.", alert.Summary);
    }

    [Fact]
    public void An_anomaly_names_the_day_the_figure_its_value_baseline_and_deviation_and_the_version_that_made_it()
    {
        // The worked example of docs/data-quality.md: 150 orders on a Monday whose four Mondays before had a median of 302.5.
        var monday = new DateOnly(2025, 3, 31);
        var anomaly = new AnomalyState(new FigureKey(monday, KpiFigure.TotalOrders), true, 150, 302.5, 30.25, -5.041322314049587, 4, "20250331", 1,
            At, At);

        var alert = AlertComposer.Anomaly(anomaly, new AnomalyOptions());

        Assert.Equal((AlertStatus.Anomaly, "20250331", (int?)1, "data/20250331/manifest_20250331.json", "anomaly/2025-03-31#total_orders/20250331/v1"),
            (alert.Status, alert.BatchId, alert.Version, alert.ManifestKey, alert.AlertId));
        Assert.Equal("Anomaly on 2025-03-31: total_orders is 150, expected about 302.5", alert.Subject);
        Assert.Equal("On 2025-03-31 (Monday) total_orders is 150 (-50.4 %); its baseline, the median of the 4 Mondays before it over 8 weeks, " +
            "is 302.5. That is 5.04 spreads of 30.25 below it (the threshold is 3.5). The figure changed with batch 20250331 (version 1, " +
            "data/20250331/manifest_20250331.json). If its data is wrong, upload a corrected version of the batch or retract it: the anomaly " +
            "clears when the figure is back within its band.", alert.Summary);

        var category = AlertComposer.Anomaly(anomaly with { Key = new FigureKey(monday, KpiFigure.DailyRevenue, "Home & Kitchen"), Value = 4100.5 },
            new AnomalyOptions());
        Assert.Equal("Anomaly on 2025-03-31: daily_revenue of Home & Kitchen is 4100.50, expected about 302.50", category.Subject);
        Assert.Equal("anomaly/2025-03-31#daily_revenue#Home & Kitchen/20250331/v1", category.AlertId);
    }

    [Fact]
    public void A_reconciliation_is_Reconciled_when_equal_and_ReconciliationFailed_naming_the_first_differences_when_not()
    {
        var equal = AlertComposer.Reconciliation(new ReconciliationFinished("r1", Day, Day.AddDays(30), 31, 3, 0, [], At));
        var lines = Enumerable.Range(1, 20).Select(i => $"order KPIs of 2025-04-{i:D2}: total_orders is 1 in DynamoDB, the engine computes 2").ToList();
        var failed = AlertComposer.Reconciliation(new ReconciliationFinished("r2", Day, Day.AddDays(30), 31, 3, 25, lines, At));

        Assert.Equal((AlertStatus.Reconciled, "(reconciliation)", (int?)null, "(reconciliation)/r1"),
            (equal.Status, equal.BatchId, equal.Version, equal.AlertId));
        Assert.Equal("KPIs reconciled with the archive: 31 days (2025-04-09 to 2025-05-09) equal", equal.Subject);
        Assert.Equal((AlertStatus.ReconciliationFailed, "(reconciliation)/r2"), (failed.Status, failed.AlertId));
        Assert.Equal("KPIs differ from the archive: 25 differences over 31 days (2025-04-09 to 2025-05-09)", failed.Subject);
        Assert.Contains("order KPIs of 2025-04-20: total_orders is 1 in DynamoDB, the engine computes 2 (and 5 more).", failed.Summary,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_success_of_one_day_and_no_category_says_so_without_a_list()
    {
        var alert = AlertComposer.Succeeded(new KpisUpdated("b", "data/b/manifest_b.json", 1, [], [Day], [], 0, 1, At));

        Assert.Equal("Batch b processed: KPIs updated for 2025-04-09", alert.Subject);
        Assert.EndsWith("1 daily rows and 0 category rows over 2025-04-09.", alert.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rejection_gives_the_reason_the_first_five_errors_the_report_and_what_to_do()
    {
        var errors = Enumerable.Range(1, 7).Select(i => $"orders/p1.csv line {i}: [field.invalid_status] bad").ToList();
        var rejection = new BatchRejected("b", "bucket", "data/b/manifest_b.json", 3, "7 validation errors", errors, 7, "errors/b/v3/validation.json", At);

        var alert = AlertComposer.Rejected(rejection);

        Assert.Equal((AlertStatus.Rejected, (int?)3, "b/v3/rejected", "Batch b rejected: 7 validation errors"),
            (alert.Status, alert.Version, alert.AlertId, alert.Subject));
        Assert.Equal("Batch b (version 3, data/b/manifest_b.json) was rejected and its files were moved to errors/b/v3/: 7 validation errors. " +
            $"First errors: {string.Join("; ", errors.Take(5))} (and 2 more). The full report is at s3://bucket/errors/b/v3/validation.json. " +
            "Fix the data and submit the batch again.", alert.Summary);
    }

    [Fact]
    public void A_rejection_without_errors_or_report_is_just_its_reason_and_one_without_a_version_is_refused()
    {
        var rejection = new BatchRejected("b", "bucket", "data/b/manifest_b.json", 1, "the manifest data/b/manifest_b.json does not exist", [], 1, null, At);

        Assert.Equal("Batch b (version 1, data/b/manifest_b.json) was rejected and its files were moved to errors/b/v1/: " +
            "the manifest data/b/manifest_b.json does not exist. Fix the data and submit the batch again.", AlertComposer.Rejected(rejection).Summary);
        Assert.Throws<ArgumentException>(() => AlertComposer.Rejected(rejection with { Version = null }));
    }

    [Fact]
    public void A_refused_retraction_is_a_rejection_of_the_request_alerted_once_per_request()
    {
        var refusal = new BatchRetractionRefused("b", 2, "version 2 is not in force (version 3 is); nothing changed",
            "5e8c0b1c-0000-4000-8000-000000000001", At);

        var alert = AlertComposer.RetractionRefused(refusal);

        Assert.Equal((AlertStatus.Rejected, "b", (int?)null, "data/b/manifest_b.json", "b/refused/5e8c0b1c-0000-4000-8000-000000000001"),
            (alert.Status, alert.BatchId, alert.Version, alert.ManifestKey, alert.AlertId));
        Assert.Equal("Batch b rejected: retraction refused: version 2 is not in force (version 3 is); nothing changed", alert.Subject);
        Assert.Equal("Batch b (data/b/manifest_b.json): retraction refused: version 2 is not in force (version 3 is); nothing changed.", alert.Summary);
    }

    [Fact]
    public void A_refused_retraction_of_a_name_that_is_no_batch_name_keeps_the_name_as_it_came()
    {
        var alert = AlertComposer.RetractionRefused(new BatchRetractionRefused("../x", null, "'../x' is not a batch name", "r1", At));

        Assert.Equal(("../x", "../x/refused/r1"), (alert.ManifestKey, alert.AlertId));
        Assert.Equal("Batch ../x (../x): retraction refused: '../x' is not a batch name.", alert.Summary);
    }

    [Fact]
    public void A_retraction_names_the_version_retracted_the_reason_the_days_and_where_its_files_went()
    {
        var retraction = new BatchRetracted("b", 4, 3, "sent by mistake", [Day], "retracted/b/v3/", At);

        var alert = AlertComposer.Retracted(retraction, "data/b/manifest_b.json");

        Assert.Equal((AlertStatus.Retracted, (int?)4, "b/v4/retracted", "Batch b retracted: KPIs updated for 2025-04-09"),
            (alert.Status, alert.Version, alert.AlertId, alert.Subject));
        Assert.Equal("Version 3 of batch b was retracted (sent by mistake): its data is no longer counted in the KPIs of 2025-04-09. " +
            "Its files were moved to retracted/b/v3/.", alert.Summary);
        Assert.Equal("Version 3 of batch b was retracted: its data is no longer counted in the KPIs of no day. Its files were moved to retracted/b/v3/.",
            AlertComposer.Retracted(retraction with { Reason = " ", Days = [] }, "data/b/manifest_b.json").Summary);
    }

    [Fact]
    public void A_failure_is_one_alert_per_attempt_naming_the_stage_and_its_record()
    {
        var run = Run() with { CurrentStage = Stages.Transform, Attempt = 2, Summary = "what the record says" };

        var alert = AlertComposer.Failed(run);

        Assert.Equal((AlertStatus.Failed, (int?)1, "b/v1/failed-2", "Batch b failed in transform", "what the record says"),
            (alert.Status, alert.Version, alert.AlertId, alert.Subject, alert.Summary));
        Assert.Equal(("Batch b failed in the pipeline", "Batch b (version 1) failed."),
            (AlertComposer.Failed(Run()).Subject, AlertComposer.Failed(Run()).Summary));
    }

    [Fact]
    public void A_dead_lettered_or_stalled_version_says_what_to_do()
    {
        var run = Run() with { CurrentStage = Stages.Compute, UpdatedAt = At };

        Assert.Equal("Batch b (version 1, data/b/manifest_b.json) failed in the compute stage after every retry: InvalidOperationException: boom. " +
            "Its message is kept in the dead-letter queue of pipeline-compute; fix the cause, then run `pipeline dlq redrive` to process it again.",
            AlertComposer.DeadLetteredSummary(run, "pipeline-compute", "InvalidOperationException: boom"));
        Assert.Equal("Batch b (version 1, data/b/manifest_b.json) has made no progress in compute since 2026-11-25 10:00:00 UTC (more than 15 minutes). " +
            "Check that the compute service is running and look at its logs and dead-letter queue (`pipeline status`, `pipeline dlq list`). " +
            "If it resumes, a new alert says so.", AlertComposer.StalledSummary(run, TimeSpan.FromMinutes(15)));
    }

    [Fact]
    public void A_dead_letter_no_version_owns_is_reported_once_per_original_message()
    {
        var about = AlertComposer.DeadLetter("pipeline-validate", "m-1", "b", "Version 1 of the batch had already ended (Succeeded).",
            "PoisonMessageException: x");
        var unknown = AlertComposer.DeadLetter("pipeline-manifest-events", "m-2", null, null, null);

        Assert.Equal((AlertStatus.Failed, "b", (int?)null, "deadletter/pipeline-validate/m-1", "Message dead-lettered in pipeline-validate (batch b)"),
            (about.Status, about.BatchId, about.Version, about.AlertId, about.Subject));
        Assert.Equal("A message about batch b was moved to the dead-letter queue of pipeline-validate: PoisonMessageException: x. " +
            "Version 1 of the batch had already ended (Succeeded). Look at it with `pipeline dlq list`; redrive it with `pipeline dlq redrive` " +
            "once the cause is fixed, or delete it if it is not needed.", about.Summary);
        Assert.Equal(("(unknown)", "Message dead-lettered in pipeline-manifest-events"), (unknown.BatchId, unknown.Subject));
        Assert.StartsWith("A message was moved to the dead-letter queue of pipeline-manifest-events. Look at it", unknown.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_compute_message_dead_lettered_after_its_version_succeeded_is_work_left_undone_and_any_other_is_not_needed()
    {
        var succeeded = Run() with { Status = RunStatus.Succeeded };

        Assert.Equal("Version 1 of the batch had already succeeded, but Compute could not finish what follows: bringing the batch's curated " +
            "Parquet (curated/order_items/) to its version in force and announcing it. A redrive of this message does both.",
            AlertComposer.EndedVersionNote(succeeded, computeMessage: true));
        Assert.Equal("Version 1 of the batch had already ended (Succeeded); the pipeline does not need this message any more.",
            AlertComposer.EndedVersionNote(succeeded, computeMessage: false));
        Assert.Equal("Version 1 of the batch had already ended (Rejected); the pipeline does not need this message any more.",
            AlertComposer.EndedVersionNote(succeeded with { Status = RunStatus.Rejected }, computeMessage: true));
    }

    [Fact]
    public void Each_outcome_message_gives_its_alert_and_any_other_message_none()
    {
        var update = new KpisUpdated("b", "data/b/manifest_b.json", 1, [], [Day], [], 0, 1, At);
        var rejection = new BatchRejected("b", "bucket", "data/b/manifest_b.json", 1, "reason", [], 1, null, At);
        var retraction = new BatchRetracted("b", 2, 1, null, [Day], "retracted/b/v1/", At);
        var refusal = new BatchRetractionRefused("b", null, "it was retracted already", "r1", At);

        Assert.Equal(AlertComposer.Succeeded(update), AlertComposer.ForOutcome(update));
        Assert.Equal(AlertComposer.Rejected(rejection), AlertComposer.ForOutcome(rejection));
        Assert.Equal(AlertComposer.Retracted(retraction, "data/b/manifest_b.json"), AlertComposer.ForOutcome(retraction));
        Assert.Equal(AlertComposer.RetractionRefused(refusal), AlertComposer.ForOutcome(refusal));
        Assert.Null(AlertComposer.ForOutcome(rejection with { Version = null }));
        Assert.Null(AlertComposer.ForOutcome(new BatchSubmitted("b", "bucket", "data/b/manifest_b.json")));
        Assert.Equal(AlertComposer.Outcomes, new[] { update, rejection, retraction, (object)refusal }.Select(o => o.GetType()));
    }

    [Fact]
    public void Subjects_are_cut_to_the_100_characters_SNS_allows()
    {
        var alert = AlertComposer.Rejected(new BatchRejected("b", "bucket", "data/b/manifest_b.json", 1, new string('r', 200), [], 1, null, At));

        Assert.Equal(100, alert.Subject.Length);
        Assert.EndsWith("rrr...", alert.Subject, StringComparison.Ordinal);
    }

    private static PipelineRun Run() =>
        PipelineRun.NewUpload(new UploadStart("b", "data/b/manifest_b.json", "e", "c", null, "cli", At, "m1"), At) with { Version = 1 };

    [Fact]
    public void A_late_day_names_the_day_and_its_deadline_and_each_lapse_and_its_recovery_is_an_alert_of_its_own()
    {
        var deadline = new DateTimeOffset(2025, 4, 10, 6, 0, 0, TimeSpan.Zero);
        var late = new DayFreshness(Day, FreshnessStatus.Late, deadline, deadline.AddMinutes(1), deadline.AddMinutes(1), 2, false);

        var alert = AlertComposer.Late(late);

        Assert.Equal((AlertStatus.Late, "freshness/2025-04-09", (int?)null, "", "freshness/2025-04-09/late-2"),
            (alert.Status, alert.BatchId, alert.Version, alert.ManifestKey, alert.AlertId));
        Assert.Equal("Data for 2025-04-09 is late: no accepted batch by 2025-04-10 06:00 UTC", alert.Subject);
        Assert.StartsWith("No accepted batch covers 2025-04-09: its orders were expected by 2025-04-10 06:00 UTC (freshness deadline) and were not " +
            "there at 2025-04-10 06:01 UTC.", alert.Summary, StringComparison.Ordinal);

        var recovered = AlertComposer.Recovered(late with { Status = FreshnessStatus.Recovered, NoticedAt = deadline.AddHours(3) });

        Assert.Equal((AlertStatus.Recovered, "freshness/2025-04-09/recovered-2"), (recovered.Status, recovered.AlertId));
        Assert.Equal("Data for 2025-04-09 arrived: recovered after its deadline 2025-04-10 06:00 UTC", recovered.Subject);
        Assert.Equal("An accepted batch now covers 2025-04-09, found at 2025-04-10 09:00 UTC: its orders were expected by 2025-04-10 06:00 UTC " +
            "and were found missing at 2025-04-10 06:01 UTC. Its KPIs are complete again.", recovered.Summary);
    }
}
