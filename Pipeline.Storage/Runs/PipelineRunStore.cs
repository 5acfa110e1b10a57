using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Topology;
using static Pipeline.Storage.Runs.RunItems;

namespace Pipeline.Storage.Runs;

/// <summary>
/// The run records in the pipeline-runs table, and the only code that writes them: each command carries out one row of
/// <see cref="BatchLife"/>'s table as one conditional write on one item — a transition from the states it may leave —
/// so two deliveries, two replicas or a stale message can never both make it. The jobs apart: <see cref="BatchHeads"/>
/// takes versions up, <see cref="RunQueries"/> reads, <see cref="RunTable"/> is the item access under both.
/// </summary>
public sealed class PipelineRunStore
{
    private readonly RunTable _table;
    private readonly BatchHeads _heads;
    private readonly RunQueries _queries;

    public PipelineRunStore(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
    {
        _table = new RunTable(dynamoDb, topology, clock);
        _heads = new BatchHeads(_table);
        _queries = new RunQueries(_table, topology);
    }

    private static AttributeValue Running => new(nameof(RunStatus.Running));
    private static AttributeValue Failed => new(nameof(RunStatus.Failed));

    // Taking versions up: the Begin transition (and Resume, for content submitted again after it failed).

    /// <summary>
    /// Takes up an upload: the content the latest version already has is that version (a duplicate, unless it is this
    /// very message again or a failed version to resume); other content opens the next version.
    /// </summary>
    public Task<RunBegin> BeginUploadAsync(UploadStart start, CancellationToken cancellationToken) =>
        _heads.BeginAsync(PipelineRun.NewUpload(start, _table.Now), cancellationToken);

    /// <summary>Opens a retraction of <paramref name="retractsVersion"/> (a duplicate when the latest version is that very retraction).</summary>
    public Task<RunBegin> BeginRetractionAsync(string batchId, string manifestKey, int retractsVersion, string source, string messageId,
        CancellationToken cancellationToken) =>
        _heads.BeginAsync(PipelineRun.NewRetraction(batchId, manifestKey, retractsVersion, source, messageId, _table.Now), cancellationToken);

    /// <summary>
    /// Notes a submission whose manifest a newer upload had already replaced: it is never processed. The head keeps the
    /// first of them (an item must stay small); later ones are only logged.
    /// </summary>
    public Task RecordSupersededAsync(string batchId, SupersededAnnouncement announcement, CancellationToken cancellationToken) =>
        _heads.RecordSupersededAsync(batchId, announcement, cancellationToken);

    /// <summary>
    /// Records that <paramref name="version"/> is the newest version folded into the KPIs (never moves back), and the
    /// version it took over; returns the head as this call left it.
    /// </summary>
    public Task<AppliedVersions> AdvanceAppliedAsync(string batchId, int version, CancellationToken cancellationToken) =>
        _heads.AdvanceAppliedAsync(batchId, version, cancellationToken);

    // Stages at work on a running version.

    /// <summary>
    /// A stage takes up a version: it must be running, or failed (then it is resumed, one attempt more), and the stage
    /// must not have succeeded already. Returns the version's record, or null when there is nothing for the stage to
    /// do (the version finished otherwise, or the stage's work is done: a late or repeated message).
    /// </summary>
    public async Task<PipelineRun?> StartStageAsync(string batchId, int version, string stage, CancellationToken cancellationToken)
    {
        BatchLife.Resume.RequireMadeBy(stage); // the working stages
        var take = $"SET {StageRecords}.#stage = :record, {CurrentStage} = :stage, {UpdatedAt} = :now";
        var notDone = $"(attribute_not_exists({StageRecords}.#stage) OR {StageRecords}.#stage.#stageStatus <> :succeeded)";
        Dictionary<string, string> Names() => new() { ["#stage"] = stage, ["#stageStatus"] = StageFields.Status };
        Dictionary<string, AttributeValue> Values() => new()
        {
            [":record"] = ToAttribute(new StageRecord(StageStatus.Running, _table.Now, null, new Dictionary<string, long>())),
            [":stage"] = new(stage),
            [":running"] = Running,
            [":succeeded"] = new(StageStatus.Succeeded),
        };
        var resume = $"{take}, #status = :running, {OpenStatus} = :running, {Attempt} = {Attempt} + :one REMOVE {FinishedAt}";
        return await _table.TryUpdateAsync(batchId, version, take, $"#status = :running AND {notDone}", Names(), Values(), cancellationToken)
                .ConfigureAwait(false)
            ?? await _table.TryUpdateAsync(batchId, version, resume, $"#status = :failed AND {notDone}", Names(),
                new(Values()) { [":failed"] = Failed, [":one"] = Number(1) }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records a stage's state and makes it the current stage: the record as this left it, or null when the version is no longer running.</summary>
    public Task<PipelineRun?> RecordStageAsync(string batchId, int version, string stage, StageRecord record, CancellationToken cancellationToken) =>
        _table.TryUpdateAsync(batchId, version, $"SET {StageRecords}.#stage = :record, {CurrentStage} = :stage, {UpdatedAt} = :now", "#status = :running",
            new() { ["#stage"] = stage }, new() { [":record"] = ToAttribute(record), [":stage"] = new(stage), [":running"] = Running }, cancellationToken);

    /// <summary>
    /// Records that an alert about the version was sent (whatever the version's status). An alert that began at or after
    /// the version failed announces the failure: the same write takes the version out of the open runs.
    /// </summary>
    public async Task RecordNotifiedAsync(string batchId, int version, StageRecord record, CancellationToken cancellationToken)
    {
        var set = $"SET {StageRecords}.#stage = :record, {UpdatedAt} = :now";
        Dictionary<string, string> Names() => new() { ["#stage"] = Stages.Notify };
        Dictionary<string, AttributeValue> Values() => new() { [":record"] = ToAttribute(record) };
        var announced = new Dictionary<string, AttributeValue>(Values()) { [":failed"] = Failed, [":started"] = new(Timestamp(record.StartedAt)) };
        if (await _table.TryUpdateAsync(batchId, version, $"{set} REMOVE {OpenStatus}", $"#status = :failed AND {FinishedAt} <= :started", Names(),
                announced, cancellationToken).ConfigureAwait(false) is null)
        {
            await _table.TryUpdateAsync(batchId, version, set, "attribute_exists(#status)", Names(), Values(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Touches the version once a minute until disposed: wrap a stage's work in it.</summary>
    public StageHeartbeat KeepAlive(string batchId, int version) => new(this, batchId, version, _table.Clock);

    /// <summary>Says a long stage is still at work, so that it is not taken for stuck.</summary>
    public async Task<bool> TouchAsync(string batchId, int version, CancellationToken cancellationToken) =>
        await _table.TryUpdateAsync(batchId, version, $"SET {UpdatedAt} = :now", "#status = :running", [], new() { [":running"] = Running }, cancellationToken)
            .ConfigureAwait(false) is not null;

    // Status transitions: the rows of BatchLife.Transitions.

    /// <summary>
    /// The version's data is in force (or, for a retraction, taken out). From Running, and from Failed too: a version
    /// reported failed (stuck, or a copy of its message dead-lettered) whose stage got through anyway has succeeded,
    /// and the record says what the KPIs hold.
    /// </summary>
    /// <param name="stage">The stage that finished the version, recorded in the same write.</param>
    public Task<TransitionResult> SucceedAsync(
        string batchId, int version, string summary, string stage, StageRecord record, CancellationToken cancellationToken) =>
        TransitionAsync(batchId, version, BatchLife.Succeed, stage, summary, new() { Sets = new() { [$"{StageRecords}.{stage}"] = ToAttribute(record) } },
            cancellationToken);

    public Task<TransitionResult> RejectAsync(string batchId, int version, RejectionRecord rejection, CancellationToken cancellationToken) =>
        TransitionAsync(batchId, version, BatchLife.Reject, Stages.Validate, $"Rejected: {rejection.Reason}",
            new() { Sets = new() { [Rejection] = ToAttribute(rejection) } }, cancellationToken);

    /// <summary>A stage gave up, or the version stopped moving. With <paramref name="lastUpdate"/>, only if nothing changed since.</summary>
    public Task<TransitionResult> FailAsync(string batchId, int version, string summary, DateTimeOffset? lastUpdate, CancellationToken cancellationToken) =>
        TransitionAsync(batchId, version, BatchLife.Fail, Stages.Notify, summary, new() { UnchangedSince = lastUpdate }, cancellationToken);

    /// <summary>
    /// A newer version came first: its manifest replaced this one's (seen in <paramref name="inStage"/>, which must still
    /// be the version's current stage: a later stage began with this version's files already), or it was folded in
    /// before this one (<paramref name="byVersion"/>, seen by Compute).
    /// </summary>
    public Task<TransitionResult> SupersedeAsync(string batchId, int version, string summary, int? byVersion, string? inStage,
        CancellationToken cancellationToken) =>
        TransitionAsync(batchId, version, BatchLife.Supersede, inStage ?? Stages.Compute, summary,
            new() { Sets = byVersion is { } by ? new() { [ChangedBy] = Number(by) } : null, InStage = inStage }, cancellationToken);

    /// <summary>
    /// Compute folded <paramref name="version"/> in, and the fold brought the KPIs to <paramref name="foldedVersion"/>: if
    /// that is this version, it is recorded in force in the batch's head. The head then says where it stands
    /// (<see cref="BatchLife.StandingOfFold"/>): overtaken by a newer version, it is superseded (it will never be in the
    /// KPIs) and null is returned; otherwise the earlier versions are taken out of force, and the ones this call took out
    /// are returned. While the version it took over is still closing, that version is not touched: this throws
    /// <see cref="VersionClosingException"/> and the delivery, retried, takes it out once it has closed.
    /// </summary>
    public async Task<IReadOnlyList<PipelineRun>?> RecordFoldAsync(string batchId, int version, int foldedVersion, RunStatus outOfForce,
        CancellationToken cancellationToken)
    {
        // Only a fold that put this version into the KPIs records it; a version recorded before is still in force, or was.
        var head = foldedVersion > version
            ? await _heads.GetAppliedAsync(batchId, cancellationToken).ConfigureAwait(false)
            : await _heads.AdvanceAppliedAsync(batchId, version, cancellationToken).ConfigureAwait(false);
        var standing = BatchLife.StandingOfFold(version, foldedVersion, head);
        if (standing.OvertakenBy is { } newer)
        {
            await SupersedeAsync(batchId, version, $"Superseded by version {newer}, which was folded in first.", newer, null, cancellationToken)
                .ConfigureAwait(false);
            return null;
        }
        return await TakeOutOfForceAsync(batchId, version, standing.TookOver, outOfForce, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Once <paramref name="version"/> is folded in, no earlier version can ever be: each earlier upload recorded in
    /// force becomes <paramref name="status"/> (<see cref="RunStatus.Replaced"/> or <see cref="RunStatus.Retracted"/>)
    /// and each earlier one still running or failed becomes <see cref="RunStatus.Superseded"/> (its stages stop at their
    /// next step) — but for the version it took over (<paramref name="tookOver"/>), which was in force: while that one is
    /// still closing, nothing is touched (<see cref="VersionClosingException"/>). Returns the uploads this call took out of force.
    /// </summary>
    private async Task<IReadOnlyList<PipelineRun>> TakeOutOfForceAsync(string batchId, int version, int? tookOver, RunStatus status,
        CancellationToken cancellationToken)
    {
        var outOfForce = BatchLife.Transitions.Single(t => t.To == status && t.Leaves(RunStatus.Succeeded));
        // The fold of the version taken over closed every version before it (it had to close before this fold got on), so
        // the versions from that one on are all a fold can still change: a few, however long the history. Not known: all.
        var history = await _queries.GetVersionsFromAsync(batchId, tookOver ?? 1, cancellationToken).ConfigureAwait(false);
        if (history.StillClosing(tookOver) is { } closing)
        {
            throw new VersionClosingException(batchId, version, closing.Version);
        }
        var changedBy = new Dictionary<string, AttributeValue> { [ChangedBy] = Number(version) };
        var taken = new List<PipelineRun>();
        foreach (var earlier in history.TakenOutByFoldOf(version))
        {
            // A version still under way either stops now, or has just succeeded (the second attempt then takes it out of force).
            var superseded = $"Superseded by version {version}, folded in before it.";
            if (earlier.IsOpen && await TransitionAsync(batchId, earlier.Version, BatchLife.Supersede, Stages.Compute, superseded, new() { Sets = changedBy },
                    cancellationToken).ConfigureAwait(false) != TransitionResult.Refused)
            {
                continue;
            }
            if (earlier.Kind == RunKind.Upload && await TransitionAsync(batchId, earlier.Version, outOfForce, Stages.Compute, $"{status} by version {version}.",
                    new() { Sets = changedBy }, cancellationToken).ConfigureAwait(false) == TransitionResult.Won)
            {
                taken.Add(earlier);
            }
        }
        return taken;
    }

    // Reads.

    public Task<PipelineRun?> GetAsync(string batchId, int version, CancellationToken cancellationToken) =>
        _table.GetAsync(batchId, version, cancellationToken);

    /// <summary>The batch name's versions, oldest first, with the one applied; null for a name never seen.</summary>
    public Task<BatchHistory?> GetHistoryAsync(string batchId, CancellationToken cancellationToken) => _queries.GetHistoryAsync(batchId, cancellationToken);

    /// <summary>
    /// The batch name's newest <paramref name="count"/> versions, oldest first, with the one in force when it is older; null
    /// for a name never seen. <see cref="BatchHistory.LatestVersion"/> says how many versions there are.
    /// </summary>
    public Task<BatchHistory?> GetRecentHistoryAsync(string batchId, int count, CancellationToken cancellationToken) =>
        _queries.GetRecentHistoryAsync(batchId, count, cancellationToken);

    /// <summary>Versions still running whose last update is older than <paramref name="cutoff"/>: stuck in a stage.</summary>
    public Task<IReadOnlyList<PipelineRun>> FindStalledAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        _queries.FindStalledAsync(cutoff, cancellationToken);

    /// <summary>The versions running now, oldest update first (the open-runs index: a write of the last moment may not be in it yet).</summary>
    public Task<IReadOnlyList<PipelineRun>> ListRunningAsync(CancellationToken cancellationToken) => _queries.ListRunningAsync(cancellationToken);

    /// <summary>Failed versions whose failure no alert has announced yet (none since they failed).</summary>
    public Task<IReadOnlyList<PipelineRun>> FindUnannouncedFailuresAsync(CancellationToken cancellationToken) =>
        _queries.FindUnannouncedFailuresAsync(cancellationToken);

    /// <summary>
    /// The <paramref name="count"/> most recently submitted versions of any batch, newest first (the same instant: by name,
    /// then version, both descending); one query of the by-submission index, reading only those.
    /// </summary>
    public Task<IReadOnlyList<PipelineRun>> ListRecentAsync(int count, CancellationToken cancellationToken) =>
        _queries.ListRecentAsync(count, cancellationToken);

    /// <summary>What a transition writes and checks besides the status.</summary>
    /// <param name="Sets">Attributes written in the same update (a path such as <c>stages.compute</c> allowed).</param>
    /// <param name="UnchangedSince">Only if nothing changed the version since (its <c>updated_at</c>).</param>
    /// <param name="InStage">Only while the version is in that stage (no later stage has begun).</param>
    private sealed record TransitionGuard(Dictionary<string, AttributeValue>? Sets = null, DateTimeOffset? UnchangedSince = null, string? InStage = null);

    /// <summary>Makes <paramref name="transition"/>, made by <paramref name="by"/>: Won, AlreadyThere (an earlier delivery made it) or Refused.</summary>
    private async Task<TransitionResult> TransitionAsync(string batchId, int version, RunTransition transition, string by, string summary,
        TransitionGuard guard, CancellationToken cancellationToken)
    {
        transition.RequireMadeBy(by);
        var values = new Dictionary<string, AttributeValue> { [":target"] = new(transition.To.ToString()), [":summary"] = new(summary) };
        var sets = new List<string> { "#status = :target", $"{Summary} = :summary", $"{FinishedAt} = :now", $"{UpdatedAt} = :now" };
        foreach (var (name, value) in guard.Sets ?? [])
        {
            // A path such as stages.compute has its placeholder without the dot.
            var placeholder = ":" + name.Replace('.', '_');
            values[placeholder] = value;
            sets.Add($"{name} = {placeholder}");
        }
        var froms = transition.From.Select((status, i) =>
        {
            values[$":from{i}"] = new AttributeValue(status.ToString());
            return $"#status = :from{i}";
        }).ToList();
        var condition = froms.Count == 1 ? froms[0] : $"({string.Join(" OR ", froms)})";
        if (guard.UnchangedSince is { } seen)
        {
            values[":seen"] = new AttributeValue(Timestamp(seen));
            condition += $" AND {UpdatedAt} = :seen";
        }
        if (guard.InStage is { } stage)
        {
            values[":stage"] = new AttributeValue(stage);
            condition += $" AND {CurrentStage} = :stage";
        }

        // Running or failed (not yet announced), the version is open; any other status closes it.
        var update = "SET " + string.Join(", ", sets)
            + (transition.To is RunStatus.Running or RunStatus.Failed ? $", {OpenStatus} = :target" : $" REMOVE {OpenStatus}");
        if (await _table.TryUpdateAsync(batchId, version, update, condition, [], values, cancellationToken).ConfigureAwait(false) is not null)
        {
            return TransitionResult.Won;
        }
        var current = await GetAsync(batchId, version, cancellationToken).ConfigureAwait(false);
        return current?.Status == transition.To ? TransitionResult.AlreadyThere : TransitionResult.Refused;
    }
}
