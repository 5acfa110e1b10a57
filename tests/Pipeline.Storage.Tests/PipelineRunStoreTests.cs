using Pipeline.Storage.Runs;

namespace Pipeline.Storage.Tests;

/// <summary>The pipeline-runs table (dynalite over HTTP): versions of a batch, each changed only by conditional transitions.</summary>
public class PipelineRunStoreTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static UploadStart Upload(string batch, string content, string message, string source = "cli") =>
        new(batch, $"data/{batch}/manifest_{batch}.json", $"etag-{content}", content, null, source, T0, message);

    [Fact]
    public async Task New_content_opens_the_next_version_and_the_same_content_is_a_duplicate_unless_it_is_the_same_message()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var clock = new Clock(T0);
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, clock);
        var batch = $"b-{Guid.NewGuid():N}";

        var first = await runs.BeginUploadAsync(Upload(batch, "c1", "m1"), CancellationToken.None);
        var copy = await runs.BeginUploadAsync(Upload(batch, "c1", "m2", "s3-event"), CancellationToken.None);
        var redelivery = await runs.BeginUploadAsync(Upload(batch, "c1", "m1"), CancellationToken.None);
        var second = await runs.BeginUploadAsync(Upload(batch, "c2", "m3"), CancellationToken.None);

        Assert.Equal((RunBeginKind.Started, 1), (first.Kind, first.Run.Version));
        Assert.Equal((RunBeginKind.Duplicate, 1), (copy.Kind, copy.Run.Version));
        Assert.Equal((RunBeginKind.Resumed, 1), (redelivery.Kind, redelivery.Run.Version));
        Assert.Equal((RunBeginKind.Started, 2), (second.Kind, second.Run.Version));
        var history = (await runs.GetHistoryAsync(batch, CancellationToken.None))!;
        Assert.Equal([1, 2], history.Versions.Select(v => v.Version));
        Assert.Equal(
            ("c1", "etag-c1", "cli", RunStatus.Running),
            (history.Versions[0].ContentId, history.Versions[0].ManifestETag, history.Versions[0].Source, history.Versions[0].Status));
        Assert.Equal(2, history.LatestVersion);
        Assert.Null(history.InForce);
    }

    [Fact]
    public async Task Copies_of_one_submission_delivered_at_once_open_exactly_one_version()
    {
        var batch = $"b-{Guid.NewGuid():N}";
        var begins = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            using var replica = aws.CreateDynamoDb();
            return await new PipelineRunStore(replica, aws.Topology, TimeProvider.System)
                .BeginUploadAsync(Upload(batch, "same", $"m{i}"), CancellationToken.None);
        }));

        Assert.Single(begins, b => b.Kind == RunBeginKind.Started);
        Assert.All(begins, b => Assert.Equal(1, b.Run.Version));
        using var dynamoDb = aws.CreateDynamoDb();
        Assert.Single((await new PipelineRunStore(dynamoDb, aws.Topology, TimeProvider.System).GetHistoryAsync(batch, CancellationToken.None))!.Versions);
    }

    [Fact]
    public async Task A_version_at_the_limits_fits_its_run_record_and_four_times_as_many_files_would_not()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, TimeProvider.System);
        var batch = $"b{Guid.NewGuid():N}".PadRight(Pipeline.Contracts.FieldLimits.BatchId, 'b');
        var limits = new Engine.Batches.BatchLimits();
        // The longest names the layout takes, and a multipart upload's ETag, for every file a batch may list.
        string Content(int files) => new Batches.BatchContent(
            Batches.BatchLayout.ManifestKey(batch),
            "0123456789abcdef0123456789abcdef-99",
            [.. Enumerable.Range(0, files).Select(i =>
            {
                var name = $"{i:D6}".PadRight(96, 'p') + ".csv";
                return new Batches.BatchObject(
                    Batches.BatchLayout.PartKey(batch, "order_items", name), $"order_items/{name}", Engine.Csv.TableKind.OrderItems, limits.MaxFileBytes,
                    "0123456789abcdef0123456789abcdef-99");
            })]).ToJson();
        UploadStart Start(int files, string content) =>
            new(batch, Batches.BatchLayout.ManifestKey(batch), $"etag-{files}", content, Content(files),
                new string('s', Pipeline.Contracts.FieldLimits.Source), T0, $"m{files}");

        var begun = await runs.BeginUploadAsync(Start(limits.MaxFiles, "at-the-limit"), CancellationToken.None);
        var tooLarge = await Assert.ThrowsAnyAsync<Amazon.DynamoDBv2.AmazonDynamoDBException>(
            () => runs.BeginUploadAsync(Start(4 * limits.MaxFiles, "beyond"), CancellationToken.None));

        Assert.Equal(
            limits.MaxFiles,
            Batches.BatchContent.FromJson((await runs.GetAsync(batch, begun.Run.Version, CancellationToken.None))!.Content!).Files.Count);
        Assert.Contains("size", tooLarge.Message, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Version 1 in force, a replacement taken up (version 2), then a retraction of version 1 asked for (version 3): the
    /// start of BatchVersionTests' retraction during a replacement, whose folds the callers record in either order.
    /// </summary>
    private static async Task<string> RetractionDuringReplacementAsync(PipelineRunStore runs)
    {
        var batch = $"b-{Guid.NewGuid():N}";
        await runs.BeginUploadAsync(Upload(batch, "c1", "m1"), CancellationToken.None);
        await runs.RecordFoldAsync(batch, 1, 1, RunStatus.Replaced, CancellationToken.None);
        await runs.SucceedAsync(batch, 1, "in force", Stages.Compute, Done(T0), CancellationToken.None);
        await runs.BeginUploadAsync(Upload(batch, "c2", "m2"), CancellationToken.None);
        await runs.BeginRetractionAsync(batch, $"data/{batch}/manifest_{batch}.json", 1, "cli", "r1", CancellationToken.None);
        return batch;
    }

    private static StageRecord Done(DateTimeOffset at) => new(StageStatus.Succeeded, at, at, new Dictionary<string, long>());

    [Fact]
    public async Task Each_transition_happens_once_and_only_from_the_states_it_may_leave()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var clock = new Clock(T0);
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, clock);
        var batch = $"b-{Guid.NewGuid():N}";
        await runs.BeginUploadAsync(Upload(batch, "c1", "m1"), CancellationToken.None);

        Assert.NotNull(await runs.StartStageAsync(batch, 1, Stages.Validate, CancellationToken.None));
        // The record as the write left it: what the stage announces, without reading it again.
        var validated = (await runs.RecordStageAsync(batch, 1, Stages.Validate, Done(T0), CancellationToken.None))!;
        Assert.Equal((StageStatus.Succeeded, Stages.Validate), (validated.Stages[Stages.Validate].Status, validated.CurrentStage));
        // A stage that succeeded is not taken up again (a repeated message), and a later one is.
        Assert.Null(await runs.StartStageAsync(batch, 1, Stages.Validate, CancellationToken.None));
        Assert.NotNull(await runs.StartStageAsync(batch, 1, Stages.Transform, CancellationToken.None));
        // Files that change under a stage already left behind do not supersede the version.
        Assert.Equal(TransitionResult.Refused, await runs.SupersedeAsync(batch, 1, "late", null, Stages.Validate, CancellationToken.None));

        Assert.Equal(TransitionResult.Won, await runs.FailAsync(batch, 1, "transform gave up", null, CancellationToken.None));
        Assert.Equal(TransitionResult.AlreadyThere, await runs.FailAsync(batch, 1, "again", null, CancellationToken.None));
        // A redriven message resumes the failed version: one attempt more.
        var resumed = (await runs.StartStageAsync(batch, 1, Stages.Transform, CancellationToken.None))!;
        Assert.Equal((RunStatus.Running, 2, (DateTimeOffset?)null), (resumed.Status, resumed.Attempt, resumed.FinishedAt));
        clock.Now = T0.AddSeconds(5);
        Assert.Equal(TransitionResult.Won, await runs.SucceedAsync(batch, 1, "folded", Stages.Compute, Done(T0.AddSeconds(4)), CancellationToken.None));
        Assert.Equal(TransitionResult.AlreadyThere, await runs.SucceedAsync(batch, 1, "folded again", Stages.Compute, Done(T0), CancellationToken.None));
        Assert.Equal(TransitionResult.Refused, await runs.RejectAsync(batch, 1, new RejectionRecord("late", [], 1, null), CancellationToken.None));
        Assert.Equal(TransitionResult.Refused, await runs.FailAsync(batch, 1, "late", null, CancellationToken.None));
        Assert.Null(await runs.StartStageAsync(batch, 1, Stages.Compute, CancellationToken.None));
        Assert.Null(await runs.RecordStageAsync(batch, 1, Stages.Transform, new StageRecord(StageStatus.Running, T0, null, new Dictionary<string, long>()),
            CancellationToken.None));

        var run = (await runs.GetAsync(batch, 1, CancellationToken.None))!;
        Assert.Equal((RunStatus.Succeeded, "folded", T0.AddSeconds(5)), (run.Status, run.Summary, run.FinishedAt));
        Assert.Equal((StageStatus.Succeeded, T0.AddSeconds(4)), (run.Stages[Stages.Compute].Status, run.Stages[Stages.Compute].FinishedAt));
    }

    [Fact]
    public async Task A_version_reported_failed_whose_stage_got_through_anyway_succeeds()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, new Clock(T0));
        var batch = $"b-{Guid.NewGuid():N}";
        await runs.BeginUploadAsync(Upload(batch, "c1", "m1"), CancellationToken.None);
        await runs.StartStageAsync(batch, 1, Stages.Compute, CancellationToken.None);

        await runs.FailAsync(batch, 1, "stuck", null, CancellationToken.None);

        Assert.Equal(TransitionResult.Won, await runs.SucceedAsync(batch, 1, "folded", Stages.Compute, Done(T0), CancellationToken.None));
    }

    [Fact]
    public async Task A_stalled_version_is_failed_only_if_it_made_no_progress_since_it_was_seen()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var clock = new Clock(T0.AddYears(-2));
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, clock);
        var (moving, stuck) = ($"moving-{Guid.NewGuid():N}", $"stuck-{Guid.NewGuid():N}");
        await runs.BeginUploadAsync(Upload(moving, "c", "m1"), CancellationToken.None);
        await runs.BeginUploadAsync(Upload(stuck, "c", "m2"), CancellationToken.None);

        var stalled = await runs.FindStalledAsync(T0.AddYears(-2).AddMinutes(15), CancellationToken.None);
        Assert.Contains(stalled, r => r.BatchId == stuck);
        var seen = stalled.Single(r => r.BatchId == moving);
        clock.Now = T0.AddYears(-2).AddMinutes(1);
        Assert.True(await runs.TouchAsync(moving, 1, CancellationToken.None));

        Assert.Equal(TransitionResult.Refused, await runs.FailAsync(moving, 1, "stuck", seen.UpdatedAt, CancellationToken.None));
        Assert.Equal(TransitionResult.Won, await runs.FailAsync(stuck, 1, "stuck", stalled.Single(r => r.BatchId == stuck).UpdatedAt, CancellationToken.None));
    }

    [Fact]
    public async Task Failures_are_to_announce_until_an_alert_is_recorded_and_again_after_a_resumed_version_fails_again()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var clock = new Clock(T0);
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, clock);
        var batch = $"f-{Guid.NewGuid():N}";
        await runs.BeginUploadAsync(Upload(batch, "c", "m1"), CancellationToken.None);
        await runs.FailAsync(batch, 1, "dead letter", null, CancellationToken.None);

        Assert.Contains(await runs.FindUnannouncedFailuresAsync(CancellationToken.None), r => r.BatchId == batch);
        clock.Now = T0.AddSeconds(1);
        await runs.RecordNotifiedAsync(batch, 1, new StageRecord(StageStatus.Succeeded, clock.Now, clock.Now, new Dictionary<string, long>()),
            CancellationToken.None);
        Assert.DoesNotContain(await runs.FindUnannouncedFailuresAsync(CancellationToken.None), r => r.BatchId == batch);

        clock.Now = T0.AddSeconds(2);
        await runs.StartStageAsync(batch, 1, Stages.Compute, CancellationToken.None);
        await runs.FailAsync(batch, 1, "dead letter again", null, CancellationToken.None);
        var again = Assert.Single(await runs.FindUnannouncedFailuresAsync(CancellationToken.None), r => r.BatchId == batch);
        Assert.Equal(2, again.Attempt);
    }

    [Fact]
    public async Task An_alert_begun_before_the_failure_does_not_announce_it_and_a_version_that_succeeds_is_open_no_more()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var clock = new Clock(T0);
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, clock);
        var batch = $"o-{Guid.NewGuid():N}";
        await runs.BeginUploadAsync(Upload(batch, "c", "m1"), CancellationToken.None);
        var alertStarted = clock.Now;
        clock.Now = T0.AddSeconds(1);
        await runs.FailAsync(batch, 1, "dead letter", null, CancellationToken.None);

        // Recorded after the failure, but begun before it: an alert about something earlier.
        await runs.RecordNotifiedAsync(batch, 1, new StageRecord(StageStatus.Succeeded, alertStarted, clock.Now, new Dictionary<string, long>()),
            CancellationToken.None);
        Assert.Contains(await runs.FindUnannouncedFailuresAsync(CancellationToken.None), r => r.BatchId == batch);
        Assert.DoesNotContain(await runs.ListRunningAsync(CancellationToken.None), r => r.BatchId == batch);

        Assert.Equal(TransitionResult.Won, await runs.SucceedAsync(batch, 1, "folded", Stages.Compute, Done(T0), CancellationToken.None));
        Assert.DoesNotContain(await runs.FindUnannouncedFailuresAsync(CancellationToken.None), r => r.BatchId == batch);
        Assert.DoesNotContain(await runs.ListRunningAsync(CancellationToken.None), r => r.BatchId == batch);
    }

    [Fact]
    public async Task A_page_of_history_has_the_newest_versions_and_the_one_in_force_when_it_is_older()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, new Clock(T0));
        var batch = $"p-{Guid.NewGuid():N}";
        await runs.BeginUploadAsync(Upload(batch, "c1", "m1"), CancellationToken.None);
        await runs.RecordFoldAsync(batch, 1, 1, RunStatus.Replaced, CancellationToken.None);
        await runs.SucceedAsync(batch, 1, "folded", Stages.Compute, Done(T0), CancellationToken.None);
        foreach (var version in new[] { 2, 3, 4 })
        {
            await runs.BeginUploadAsync(Upload(batch, $"c{version}", $"m{version}"), CancellationToken.None);
            await runs.RejectAsync(batch, version, new RejectionRecord("a rule broken", [], 1, null), CancellationToken.None);
        }

        var page = (await runs.GetRecentHistoryAsync(batch, 2, CancellationToken.None))!;
        var whole = (await runs.GetRecentHistoryAsync(batch, 10, CancellationToken.None))!;

        Assert.Equal((4, 1), (page.LatestVersion, page.InForce!.Version));
        Assert.Equal([1, 3, 4], page.Versions.Select(v => v.Version));
        Assert.Equal((await runs.GetHistoryAsync(batch, CancellationToken.None))!.Versions.Select(v => (v.Version, v.Status)),
            whole.Versions.Select(v => (v.Version, v.Status)));
        Assert.Null(await runs.GetRecentHistoryAsync($"never-{Guid.NewGuid():N}", 2, CancellationToken.None));
    }

    [Fact]
    public async Task Folding_a_version_in_takes_earlier_ones_out_of_force_and_supersedes_those_still_under_way()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, new Clock(T0));
        var batch = $"b-{Guid.NewGuid():N}";
        foreach (var content in new[] { "c1", "c2", "c3" })
        {
            await runs.BeginUploadAsync(Upload(batch, content, content), CancellationToken.None);
        }
        await runs.SucceedAsync(batch, 1, "in force", Stages.Compute, Done(T0), CancellationToken.None);
        await runs.AdvanceAppliedAsync(batch, 1, CancellationToken.None);

        var taken = (await runs.RecordFoldAsync(batch, 3, 3, RunStatus.Replaced, CancellationToken.None))!;
        await runs.AdvanceAppliedAsync(batch, 2, CancellationToken.None); // a late, older fold never moves the record back

        Assert.Equal([1], taken.Select(t => t.Version));
        var history = (await runs.GetHistoryAsync(batch, CancellationToken.None))!;
        Assert.Equal(
            [(RunStatus.Replaced, (int?)3), (RunStatus.Superseded, 3), (RunStatus.Running, null)],
            history.Versions.Select(v => (v.Status, v.ChangedBy)));
        Assert.Equal(3, history.AppliedVersion);
        Assert.Equal(TransitionResult.Refused, await runs.SucceedAsync(batch, 2, "too late", Stages.Compute, Done(T0), CancellationToken.None));
    }

    [Fact]
    public async Task A_retraction_folded_while_the_upload_in_force_is_still_closing_retracts_that_upload_once_it_has_closed()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, new Clock(T0));
        var batch = await RetractionDuringReplacementAsync(runs);
        var none = CancellationToken.None;

        // Version 2's fold is recorded: it replaced version 1 and is in force, but has not closed (Compute archives its files, then succeeds).
        Assert.Equal([1], (await runs.RecordFoldAsync(batch, 2, 2, RunStatus.Replaced, none))!.Select(v => v.Version));
        // The retraction's fold is recorded now: what it takes out of force is version 2, which is not superseded; its delivery is retried.
        var waiting = await Record.ExceptionAsync(() => runs.RecordFoldAsync(batch, 3, 3, RunStatus.Retracted, none));
        Assert.Equal(RunStatus.Running, (await runs.GetAsync(batch, 2, none))!.Status);
        Assert.Contains("version 3 takes version 2 out of force, and version 2 has not closed yet", Assert.IsType<VersionClosingException>(waiting).Message);
        Assert.Equal(new AppliedVersions(3, 2), await runs.AdvanceAppliedAsync(batch, 3, none));
        Assert.Equal(TransitionResult.Won, await runs.SucceedAsync(batch, 2, "folded", Stages.Compute, Done(T0), none));
        // The retraction's delivery again, after version 2 closed: it retracts version 2, whose files are the ones to move.
        Assert.Equal([2], (await runs.RecordFoldAsync(batch, 3, 3, RunStatus.Retracted, none))!.Select(v => v.Version));

        var history = (await runs.GetHistoryAsync(batch, none))!;
        Assert.Equal([(RunStatus.Replaced, (int?)2), (RunStatus.Retracted, 3), (RunStatus.Running, null)],
            history.Versions.Select(v => (v.Status, v.ChangedBy)));
        Assert.Equal(2, history.RetractedBy(history.Version(3)!));
    }

    [Fact]
    public async Task A_fold_recorded_after_a_newer_one_is_superseded_and_takes_nothing_out()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, new Clock(T0));
        var batch = await RetractionDuringReplacementAsync(runs);
        var none = CancellationToken.None;

        // Version 2 was folded into the KPIs, then the retraction (version 3), whose fold is recorded first: it retracts version 1.
        Assert.Equal([1], (await runs.RecordFoldAsync(batch, 3, 3, RunStatus.Retracted, none))!.Select(v => v.Version));
        // Version 2 is never in force: superseded, with nothing taken out (so its files are not archived as an accepted version's).
        Assert.Null(await runs.RecordFoldAsync(batch, 2, 2, RunStatus.Replaced, none));

        var history = (await runs.GetHistoryAsync(batch, none))!;
        Assert.Equal([(RunStatus.Retracted, (int?)3), (RunStatus.Superseded, 3), (RunStatus.Running, null)],
            history.Versions.Select(v => (v.Status, v.ChangedBy)));
        Assert.Equal(1, history.RetractedBy(history.Version(3)!));
        Assert.Equal(new AppliedVersions(3, 1), await runs.AdvanceAppliedAsync(batch, 2, none));
    }

    [Fact]
    public async Task A_version_recorded_in_force_whose_delivery_comes_back_after_a_newer_fold_closes_and_is_then_taken_out()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, new Clock(T0));
        var batch = $"b-{Guid.NewGuid():N}";
        var none = CancellationToken.None;
        await runs.BeginUploadAsync(Upload(batch, "c1", "m1"), none);
        Assert.Empty((await runs.RecordFoldAsync(batch, 1, 1, RunStatus.Replaced, none))!);
        // Version 1 is in force, and its delivery dies before it closes. A retraction of it is asked for: its fold waits for version 1.
        await runs.BeginRetractionAsync(batch, $"data/{batch}/manifest_{batch}.json", 1, "cli", "r1", none);
        await Assert.ThrowsAsync<VersionClosingException>(() => runs.RecordFoldAsync(batch, 2, 2, RunStatus.Retracted, none));

        // Version 1's delivery comes back: its fold now finds the KPIs at version 2, yet it was in force, so it closes as such.
        Assert.Empty((await runs.RecordFoldAsync(batch, 1, 2, RunStatus.Replaced, none))!);
        Assert.Equal(TransitionResult.Won, await runs.SucceedAsync(batch, 1, "folded", Stages.Compute, Done(T0), none));
        Assert.Equal([1], (await runs.RecordFoldAsync(batch, 2, 2, RunStatus.Retracted, none))!.Select(v => v.Version));

        var history = (await runs.GetHistoryAsync(batch, none))!;
        Assert.Equal([(RunStatus.Retracted, (int?)2), (RunStatus.Running, null)], history.Versions.Select(v => (v.Status, v.ChangedBy)));
    }

    [Fact]
    public async Task A_retraction_is_a_version_of_its_own_and_asking_twice_is_a_duplicate()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, new Clock(T0));
        var batch = $"b-{Guid.NewGuid():N}";
        await runs.BeginUploadAsync(Upload(batch, "c1", "m1"), CancellationToken.None);

        var retraction = await runs.BeginRetractionAsync(batch, $"data/{batch}/manifest_{batch}.json", 1, "cli", "r1", CancellationToken.None);
        var again = await runs.BeginRetractionAsync(batch, $"data/{batch}/manifest_{batch}.json", 1, "cli", "r2", CancellationToken.None);

        Assert.Equal(
            (RunBeginKind.Started, 2, RunKind.Retraction, (int?)1),
            (retraction.Kind, retraction.Run.Version, retraction.Run.Kind, retraction.Run.RetractsVersion));
        Assert.Equal((RunBeginKind.Duplicate, 2), (again.Kind, again.Run.Version));
    }

    [Fact]
    public async Task A_submission_whose_manifest_was_replaced_is_noted_in_the_history()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, new Clock(T0));
        var batch = $"b-{Guid.NewGuid():N}";

        await runs.RecordSupersededAsync(batch, new SupersededAnnouncement("old-etag", "s3-event", T0, T0.AddSeconds(1)), CancellationToken.None);
        var begin = await runs.BeginUploadAsync(Upload(batch, "c1", "m1"), CancellationToken.None);

        var history = (await runs.GetHistoryAsync(batch, CancellationToken.None))!;
        Assert.Equal(1, begin.Run.Version);
        Assert.Equal(new SupersededAnnouncement("old-etag", "s3-event", T0, T0.AddSeconds(1)), Assert.Single(history.Superseded));
    }

    [Fact]
    public async Task The_most_recent_runs_come_newest_first_and_no_more_than_asked()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        // Later than every other test's runs in this table, so these are the most recent.
        var t0 = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, new Clock(t0));
        var prefix = $"r-{Guid.NewGuid():N}-";
        // Submitted out of name order, so sorting by name would give another answer.
        foreach (var (batch, minutes) in new[] { ("b", 0), ("c", 2), ("a", 1) })
        {
            await runs.BeginUploadAsync(Upload(prefix + batch, "c", batch) with { SubmittedAt = t0.AddMinutes(minutes) }, CancellationToken.None);
        }

        Assert.Equal([prefix + "c", prefix + "a"], (await runs.ListRecentAsync(2, CancellationToken.None)).Select(r => r.BatchId));
        Assert.Equal([prefix + "c", prefix + "a", prefix + "b"], (await runs.ListRecentAsync(3, CancellationToken.None)).Select(r => r.BatchId));
    }

    [Fact]
    public async Task The_running_list_has_the_versions_running_and_none_that_ended()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var runs = new PipelineRunStore(dynamoDb, aws.Topology, new Clock(T0));
        var (running, done) = ($"running-{Guid.NewGuid():N}", $"done-{Guid.NewGuid():N}");
        await runs.BeginUploadAsync(Upload(running, "c", "m1"), CancellationToken.None);
        await runs.BeginUploadAsync(Upload(done, "c", "m2"), CancellationToken.None);
        await runs.StartStageAsync(done, 1, Stages.Compute, CancellationToken.None);
        await runs.SucceedAsync(done, 1, "folded", Stages.Compute, Done(T0), CancellationToken.None);

        var listed = await runs.ListRunningAsync(CancellationToken.None);

        Assert.All(listed, r => Assert.Equal(RunStatus.Running, r.Status));
        Assert.Equal((1, RunStatus.Running), (listed.Single(r => r.BatchId == running).Version, listed.Single(r => r.BatchId == running).Status));
        Assert.DoesNotContain(listed, r => r.BatchId == done);
    }
}
