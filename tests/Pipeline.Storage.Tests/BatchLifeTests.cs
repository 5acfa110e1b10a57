using Pipeline.Storage.Runs;
using static Pipeline.Storage.Runs.RunStatus;

namespace Pipeline.Storage.Tests;

/// <summary>The run-record state machine as a table (BatchLife) and the questions a batch's history answers: pure, no AWS.</summary>
public class BatchLifeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    /// <summary>Every status change a version may make, with the transition that makes it and the stages that may.</summary>
    public static TheoryData<RunStatus, RunStatus, string, string[]> Allowed => new()
    {
        { Failed, Running, "Resume", [Stages.Validate, Stages.Transform, Stages.Compute] },
        { Running, Rejected, "Reject", [Stages.Validate] },
        { Running, Succeeded, "Succeed", [Stages.Compute] },
        { Failed, Succeeded, "Succeed", [Stages.Compute] },
        { Running, Failed, "Fail", [Stages.Notify] },
        { Running, Superseded, "Supersede", [Stages.Validate, Stages.Transform, Stages.Compute] },
        { Failed, Superseded, "Supersede", [Stages.Validate, Stages.Transform, Stages.Compute] },
        { Succeeded, Replaced, "Replace", [Stages.Compute] },
        { Succeeded, Retracted, "Retract", [Stages.Compute] },
    };

    /// <summary>Every other pair of statuses: no transition leads from the one to the other.</summary>
    public static TheoryData<RunStatus, RunStatus> Refused
    {
        get
        {
            var allowed = Allowed.Select(row => ((RunStatus)row[0], (RunStatus)row[1])).ToHashSet();
            var refused = new TheoryData<RunStatus, RunStatus>();
            foreach (var from in Enum.GetValues<RunStatus>())
            {
                foreach (var to in Enum.GetValues<RunStatus>().Where(to => !allowed.Contains((from, to))))
                {
                    refused.Add(from, to);
                }
            }
            return refused;
        }
    }

    [Theory]
    [MemberData(nameof(Allowed))]
    public void Each_allowed_transition_is_in_the_table_with_the_stages_that_may_make_it(RunStatus from, RunStatus to, string name, string[] madeBy)
    {
        var transition = BatchLife.Between(from, to);

        Assert.NotNull(transition);
        Assert.Equal(name, transition.Name);
        Assert.Equal(madeBy.Order(), transition.MadeBy.Order());
        foreach (var stage in new[] { Stages.Validate, Stages.Transform, Stages.Compute, Stages.Notify })
        {
            if (madeBy.Contains(stage))
            {
                transition.RequireMadeBy(stage);
            }
            else
            {
                var refused = Assert.Throws<InvalidOperationException>(() => transition.RequireMadeBy(stage));
                Assert.Contains($"The {stage} stage may not {name} a version", refused.Message);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Every_other_status_change_is_refused(RunStatus from, RunStatus to) => Assert.Null(BatchLife.Between(from, to));

    [Fact]
    public void A_version_begins_running_by_validate_for_an_upload_or_by_compute_for_a_retraction_and_final_states_are_never_left()
    {
        Assert.Equal(Running, BatchLife.Begin.To);
        Assert.Equal([Stages.Compute, Stages.Validate], BatchLife.Begin.MadeBy.Order());
        Assert.Empty(BatchLife.Begin.From);
        Assert.All(new[] { Rejected, Superseded, Replaced, Retracted }, final => Assert.DoesNotContain(BatchLife.Transitions, t => t.Leaves(final)));
        Assert.Equal(BatchLife.Transitions.Count, BatchLife.Transitions.Select(t => t.Name).Distinct().Count());
    }

    [Theory]
    [InlineData(0, null, null, "m1", TakeUpStep.NextVersion)]
    [InlineData(1, "other", RunStatus.Succeeded, "m1", TakeUpStep.NextVersion)]
    [InlineData(1, "same", null, "m1", TakeUpStep.WriteAllocated)]
    [InlineData(1, "same", RunStatus.Failed, "m2", TakeUpStep.ResumeFailed)]
    [InlineData(1, "same", RunStatus.Running, "m1", TakeUpStep.CarryOn)]
    [InlineData(1, "same", RunStatus.Succeeded, "m2", TakeUpStep.Duplicate)]
    [InlineData(1, "same", RunStatus.Running, "m2", TakeUpStep.Duplicate)]
    public void Content_is_a_copy_of_the_latest_version_only_when_the_head_names_it(
        int latestVersion, string? latestContent, RunStatus? latestStatus, string messageId, TakeUpStep expected)
    {
        var latest = latestStatus is { } status ? Upload(latestVersion, status, owner: "m1") with { ContentId = latestContent! } : null;

        Assert.Equal(expected, BatchLife.TakeUp(latestVersion, latestContent, latest, "same", messageId));
    }

    [Fact]
    public void A_retraction_is_refused_with_a_reason_unless_the_version_asked_for_is_in_force()
    {
        var accepted = History(applied: 1, Upload(1, Succeeded));
        var retracted = History(applied: 2, Upload(1, Retracted, changedBy: 2), Retraction(2, Succeeded, retracts: 1));

        Assert.Equal("no batch of that name was ever submitted", BatchLife.RetractionRefusal(null, null));
        Assert.Equal("none of its uploads is in force (none was accepted)", BatchLife.RetractionRefusal(History(applied: 0, Upload(1, Rejected)), null));
        Assert.Equal("it was retracted already (version 2, 2026-11-25 10:00 UTC); nothing changed", BatchLife.RetractionRefusal(retracted, null));
        Assert.Equal("version 3 is not in force (version 1 is); nothing changed", BatchLife.RetractionRefusal(accepted, 3));
        Assert.Null(BatchLife.RetractionRefusal(accepted, 1));
        Assert.Null(BatchLife.RetractionRefusal(accepted, null));
    }

    [Theory]
    [InlineData(2, 2, 2, 1, null, 1)] // recorded in force now, over version 1
    [InlineData(2, 2, 2, 0, null, 0)] // the batch's first version in force
    [InlineData(2, 3, 2, 1, null, 1)] // recorded in force before a newer version's fold (not recorded yet): still in force
    [InlineData(2, 3, 3, 2, null, null)] // recorded in force, then taken over by version 3: it closes, then version 3 takes it out
    [InlineData(2, 2, 3, 1, 3, null)] // version 3's fold was recorded first: version 2 never was in force
    [InlineData(2, 4, 1, 0, 4, null)] // the fold found version 4 written already: never in force
    [InlineData(2, 4, 3, 1, 4, null)]
    public void A_folded_version_stands_where_the_heads_record_puts_it(
        int version, int foldedVersion, int applied, int previous, int? overtakenBy, int? tookOver) =>
        Assert.Equal(new FoldStanding(overtakenBy, tookOver), BatchLife.StandingOfFold(version, foldedVersion, new AppliedVersions(applied, previous)));

    [Fact]
    public void A_fold_lets_the_version_it_took_over_close_first_and_never_waits_for_another()
    {
        var history = History(applied: 3, Upload(1, Replaced, changedBy: 2), Upload(2, Running), Retraction(3, Running, retracts: 1), Upload(4, Failed));

        Assert.Equal(2, history.StillClosing(2)!.Version);
        Assert.Equal(4, history.StillClosing(4)!.Version); // failed, not closed: its redrive closes it
        Assert.Null(history.StillClosing(1));
        Assert.Null(history.StillClosing(0));
        Assert.Null(history.StillClosing(null));
    }

    [Fact]
    public void A_history_names_the_version_in_force_the_version_a_submission_is_about_and_what_each_version_took_out()
    {
        var history = History(applied: 3,
            Upload(1, Replaced, etag: "e1", changedBy: 3, owner: "m1"),
            Upload(2, Superseded, etag: "e2", changedBy: 3, owner: "m2"),
            Upload(3, Succeeded, etag: "e3", owner: "m3"),
            Retraction(4, Running, retracts: 3, owner: "r1"),
            Upload(5, Running, etag: "e1", owner: "m5"));

        Assert.Equal(3, history.InForce!.Version);
        Assert.Null(history.RetractionInForce);
        Assert.Equal(5, history.UploadOfManifest("e1")!.Version);
        Assert.Equal(2, history.VersionOfSubmission("e2")!.Version);
        Assert.Null(history.VersionOfSubmission(null)); // the latest is still running: its files are not archived
        Assert.True(history.AnyUploadRead);
        Assert.Equal(2, history.VersionBegunBy("m2")!.Version);
        Assert.Equal(4, history.RetractionBegunBy("r1")!.Version);
        Assert.Null(history.RetractionBegunBy("m3"));
        Assert.Equal([1], history.ReplacedBy(3));
        Assert.Equal(3, history.RetractedBy(history.Version(4)!)); // not taken out yet: the version it was asked for
        Assert.Equal([3, 4], history.TakenOutByFoldOf(5).Select(v => v.Version));
    }

    [Fact]
    public void A_run_says_whether_it_may_still_count_and_whether_it_awaits_the_verdict_of_the_message_that_began_it()
    {
        var inValidate = Upload(1, Running, owner: "m1");
        var passed = new StageRecord(StageStatus.Succeeded, T0, T0, new Dictionary<string, long>());
        var validated = inValidate with { Stages = new Dictionary<string, StageRecord> { [Stages.Validate] = passed } };

        Assert.True(inValidate.AwaitsVerdictFrom("m1"));
        Assert.False(inValidate.AwaitsVerdictFrom("m2"));
        Assert.False(validated.AwaitsVerdictFrom("m1"));
        Assert.True(validated.HasPassed(Stages.Validate));
        Assert.Equal([Running, Succeeded, Failed], Enum.GetValues<RunStatus>().Where(s => (inValidate with { Status = s }).MayCount));
    }

    private static PipelineRun Upload(int version, RunStatus status, string? etag = null, int? changedBy = null, string? owner = null) =>
        PipelineRun.NewUpload(new UploadStart("b", "data/b/manifest_b.json", etag, $"c{version}", null, "cli", T0, owner ?? $"m{version}"), T0)
            with
        { Version = version, Status = status, ChangedBy = changedBy, FinishedAt = status == Running ? null : T0 };

    private static PipelineRun Retraction(int version, RunStatus status, int retracts, string? owner = null) =>
        PipelineRun.NewRetraction("b", "data/b/manifest_b.json", retracts, "cli", owner ?? $"r{version}", T0)
            with
        { Version = version, Status = status, FinishedAt = status == Running ? null : T0 };

    private static BatchHistory History(int applied, params PipelineRun[] versions) => new("b", versions.Length, applied, versions, []);
}
