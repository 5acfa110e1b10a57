using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Topology;

namespace Pipeline.Storage.Runs;

/// <summary>What Validate knows when it takes up an upload.</summary>
public sealed record UploadStart(string BatchId, string ManifestKey, string? ManifestETag, string ContentId, string? Content, string Source, DateTimeOffset SubmittedAt, string MessageId);

/// <summary>
/// The pipeline-runs table: per batch name a head item (version 0) that orders the versions and names the one applied,
/// and one item per version. Every change is one conditional write on one item — a transition from the states it may
/// leave — so two deliveries, two replicas or a stale message can never both make it (docs/pipeline.md, "The run's
/// state machine"). There are no transactions: the head's allocation comes first and a version whose item is missing
/// is written by whoever finds it missing.
/// </summary>
public sealed class PipelineRunStore(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
{
    private const int Head = 0;

    /// <summary>Superseded submissions kept in a batch's head item.</summary>
    private const int MaxAnnouncements = 50;

    /// <summary>Conditional writes that lose a race are retried this often before the caller's delivery fails (and is retried).</summary>
    private const int MaxRaces = 20;

    private static AttributeValue Running => new(nameof(RunStatus.Running));
    private static AttributeValue Failed => new(nameof(RunStatus.Failed));

    private string Table => topology.PipelineRunsTable.Name;

    /// <summary>
    /// Takes up an upload: the content the latest version already has is that version (a duplicate, unless it is this
    /// very message again or a failed version to resume); other content opens the next version.
    /// </summary>
    public Task<RunBegin> BeginUploadAsync(UploadStart start, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return BeginAsync(new PipelineRun(start.BatchId, 0, RunKind.Upload, start.ManifestKey, start.ManifestETag, start.ContentId, start.Content,
            start.Source, RunStatus.Running, null, start.SubmittedAt, now, null, new Dictionary<string, StageRecord>(), null, 1, start.MessageId), cancellationToken);
    }

    /// <summary>Opens a retraction of <paramref name="retractsVersion"/> (a duplicate when the latest version is that very retraction).</summary>
    public Task<RunBegin> BeginRetractionAsync(string batchId, string manifestKey, int retractsVersion, string source, string messageId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return BeginAsync(new PipelineRun(batchId, 0, RunKind.Retraction, manifestKey, null, $"retraction-of-{retractsVersion}", null, source,
            RunStatus.Running, null, now, now, null, new Dictionary<string, StageRecord>(), null, 1, messageId, RetractsVersion: retractsVersion), cancellationToken);
    }

    private async Task<RunBegin> BeginAsync(PipelineRun wanted, CancellationToken cancellationToken)
    {
        for (var race = 0; race < MaxRaces; race++)
        {
            var head = await GetItemAsync(wanted.BatchId, Head, cancellationToken).ConfigureAwait(false);
            var latest = head is null ? 0 : RunItems.Int(head, RunItems.LatestVersion);
            var latestRun = latest == 0 ? null : await GetAsync(wanted.BatchId, latest, cancellationToken).ConfigureAwait(false);

            if (latest > 0 && head![RunItems.LatestContent].S == wanted.ContentId)
            {
                if (latestRun is null)
                {
                    // The version was allocated by a delivery that died before writing it: write it now.
                    var created = wanted with { Version = latest };
                    if (await TryPutNewAsync(created, cancellationToken).ConfigureAwait(false))
                    {
                        return new RunBegin(RunBeginKind.Started, created);
                    }
                    continue;
                }
                if (latestRun.Status == RunStatus.Failed)
                {
                    if (await TryResumeAsync(latestRun, wanted.OwnerMessage!, cancellationToken).ConfigureAwait(false) is { } resumed)
                    {
                        return new RunBegin(RunBeginKind.Resumed, resumed);
                    }
                    continue;
                }
                return new RunBegin(latestRun.OwnerMessage == wanted.OwnerMessage ? RunBeginKind.Resumed : RunBeginKind.Duplicate, latestRun);
            }

            if (latest > 0 && latestRun is null)
            {
                // Allocated, never written, and now overtaken by other content: record it for the history.
                await TryPutNewAsync(new PipelineRun(wanted.BatchId, latest, RunKind.Upload, wanted.ManifestKey, null, head![RunItems.LatestContent].S, null,
                    "unknown", RunStatus.Superseded, null, clock.GetUtcNow(), clock.GetUtcNow(), clock.GetUtcNow(), new Dictionary<string, StageRecord>(),
                    "Interrupted before its run record was written; a newer version came first.", 1, null), cancellationToken).ConfigureAwait(false);
            }

            var next = latest + 1;
            if (!await TryAllocateAsync(wanted.BatchId, latest, next, wanted.ContentId, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }
            var run = wanted with { Version = next };
            if (await TryPutNewAsync(run, cancellationToken).ConfigureAwait(false))
            {
                return new RunBegin(RunBeginKind.Started, run);
            }
        }
        throw new InvalidOperationException($"Batch {wanted.BatchId}: could not take up a version after {MaxRaces} concurrent changes; the delivery will be retried.");
    }

    /// <summary>
    /// Notes a submission whose manifest a newer upload had already replaced: it is never processed. The head keeps
    /// the first <see cref="MaxAnnouncements"/> of them (an item must stay small); later ones are only logged.
    /// </summary>
    public async Task RecordSupersededAsync(string batchId, SupersededAnnouncement announcement, CancellationToken cancellationToken)
    {
        var key = RunItems.Key(batchId, Head);
        await dynamoDb.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = Table,
            Key = key,
            UpdateExpression = "SET #superseded = if_not_exists(#superseded, :empty)",
            ExpressionAttributeNames = new() { ["#superseded"] = RunItems.Superseded },
            ExpressionAttributeValues = new() { [":empty"] = new AttributeValue { M = [], IsMSet = true } },
        }, cancellationToken).ConfigureAwait(false);
        try
        {
            await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Table,
                Key = key,
                UpdateExpression = "SET #superseded.#etag = :announcement",
                ConditionExpression = "size(#superseded) < :max",
                ExpressionAttributeNames = new() { ["#superseded"] = RunItems.Superseded, ["#etag"] = announcement.ManifestETag },
                ExpressionAttributeValues = new() { [":announcement"] = RunItems.ToAttribute(announcement), [":max"] = RunItems.Number(MaxAnnouncements) },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // Enough of them are kept to tell the story.
        }
    }

    /// <summary>
    /// A stage takes up a version: it must be running, or failed (then it is resumed, one attempt more), and the stage
    /// must not have succeeded already. Returns the version's record, or null when there is nothing for the stage to
    /// do (the version finished otherwise, or the stage's work is done: a late or repeated message).
    /// </summary>
    public async Task<PipelineRun?> StartStageAsync(string batchId, int version, string stage, CancellationToken cancellationToken)
    {
        var record = RunItems.ToAttribute(new StageRecord(Stages.Running, clock.GetUtcNow(), null, new Dictionary<string, long>()));
        const string NotDone = "(attribute_not_exists(stages.#stage) OR stages.#stage.#stageStatus <> :succeeded)";
        Dictionary<string, string> Names() => new() { ["#stage"] = stage, ["#stageStatus"] = "status" };
        var run = await TryUpdateAsync(batchId, version, "SET stages.#stage = :record, current_stage = :stage, updated_at = :now",
            $"#status = :running AND {NotDone}", Names(),
            new() { [":record"] = record, [":stage"] = new(stage), [":running"] = Running, [":succeeded"] = new(Stages.Succeeded) }, cancellationToken)
            .ConfigureAwait(false);
        return run ?? await TryUpdateAsync(batchId, version,
            "SET stages.#stage = :record, current_stage = :stage, updated_at = :now, #status = :running, attempt = attempt + :one REMOVE finished_at",
            $"#status = :failed AND {NotDone}", Names(),
            new() { [":record"] = record, [":stage"] = new(stage), [":failed"] = Failed, [":one"] = RunItems.Number(1), [":running"] = Running, [":succeeded"] = new(Stages.Succeeded) },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records a stage's state and makes it the current stage; false when the version is no longer running.</summary>
    public async Task<bool> RecordStageAsync(string batchId, int version, string stage, StageRecord record, CancellationToken cancellationToken) =>
        await TryUpdateAsync(batchId, version, "SET stages.#stage = :record, current_stage = :stage, updated_at = :now", "#status = :running",
            new() { ["#stage"] = stage }, new() { [":record"] = RunItems.ToAttribute(record), [":stage"] = new(stage), [":running"] = Running }, cancellationToken)
            .ConfigureAwait(false) is not null;

    /// <summary>Records that an alert about the version was sent (whatever the version's status).</summary>
    public async Task RecordNotifiedAsync(string batchId, int version, StageRecord record, CancellationToken cancellationToken) =>
        await TryUpdateAsync(batchId, version, "SET stages.#stage = :record, updated_at = :now", "attribute_exists(#status)",
            new() { ["#stage"] = Stages.Notify }, new() { [":record"] = RunItems.ToAttribute(record) }, cancellationToken).ConfigureAwait(false);

    /// <summary>Touches the version once a minute until disposed: wrap a stage's work in it.</summary>
    public StageHeartbeat KeepAlive(string batchId, int version) => new(this, batchId, version, clock);

    /// <summary>Says a long stage is still at work, so that it is not taken for stuck.</summary>
    public async Task<bool> TouchAsync(string batchId, int version, CancellationToken cancellationToken) =>
        await TryUpdateAsync(batchId, version, "SET updated_at = :now", "#status = :running", [], new() { [":running"] = Running }, cancellationToken)
            .ConfigureAwait(false) is not null;

    /// <summary>
    /// The version's data is in force (or, for a retraction, taken out). From Running, and from Failed too: a version
    /// reported failed (stuck, or a copy of its message dead-lettered) whose stage got through anyway has succeeded,
    /// and the record says what the KPIs hold.
    /// </summary>
    /// <param name="stage">The stage that finished the version, recorded in the same write.</param>
    public Task<TransitionResult> SucceedAsync(string batchId, int version, string summary, string stage, StageRecord record, CancellationToken cancellationToken) =>
        TransitionAsync(batchId, version, RunStatus.Succeeded, [RunStatus.Running, RunStatus.Failed], summary,
            new() { [$"stages.{stage}"] = RunItems.ToAttribute(record) }, cancellationToken);

    public Task<TransitionResult> RejectAsync(string batchId, int version, RejectionRecord rejection, CancellationToken cancellationToken) =>
        TransitionAsync(batchId, version, RunStatus.Rejected, [RunStatus.Running], $"Rejected: {rejection.Reason}",
            new() { ["rejection"] = RunItems.ToAttribute(rejection) }, cancellationToken);

    /// <summary>A stage gave up, or the version stopped moving. With <paramref name="lastUpdate"/>, only if nothing changed since.</summary>
    public Task<TransitionResult> FailAsync(string batchId, int version, string summary, DateTimeOffset? lastUpdate, CancellationToken cancellationToken) =>
        TransitionAsync(batchId, version, RunStatus.Failed, [RunStatus.Running], summary, [], cancellationToken, lastUpdate);

    /// <summary>
    /// A newer version came first: its manifest replaced this one's (seen in <paramref name="inStage"/>, which must still
    /// be the version's current stage: a later stage began with this version's files already), or it was folded in
    /// before this one (<paramref name="byVersion"/>).
    /// </summary>
    public Task<TransitionResult> SupersedeAsync(string batchId, int version, string summary, int? byVersion, string? inStage, CancellationToken cancellationToken) =>
        TransitionAsync(batchId, version, RunStatus.Superseded, [RunStatus.Running, RunStatus.Failed], summary,
            byVersion is { } by ? new() { ["changed_by"] = RunItems.Number(by) } : [], cancellationToken, inStage: inStage);

    /// <summary>
    /// Once <paramref name="version"/> is folded in, no earlier version can ever be: each earlier upload recorded in
    /// force becomes <paramref name="status"/> (<see cref="RunStatus.Replaced"/> or <see cref="RunStatus.Retracted"/>)
    /// and each earlier one still running or failed becomes <see cref="RunStatus.Superseded"/> (its stages stop at their
    /// next step). Returns the uploads this call took out of force.
    /// </summary>
    public async Task<IReadOnlyList<PipelineRun>> TakeOutOfForceAsync(string batchId, int version, RunStatus status, CancellationToken cancellationToken)
    {
        var history = await GetHistoryAsync(batchId, cancellationToken).ConfigureAwait(false);
        var verb = status == RunStatus.Retracted ? "Retracted" : "Replaced";
        var changedBy = new Dictionary<string, AttributeValue> { ["changed_by"] = RunItems.Number(version) };
        var taken = new List<PipelineRun>();
        foreach (var earlier in history?.Versions.Where(v => v.Version < version && v.Status is RunStatus.Running or RunStatus.Failed or RunStatus.Succeeded) ?? [])
        {
            // A version still under way either stops now, or has just succeeded (the second attempt then takes it out of force).
            if (earlier.IsOpen && await TransitionAsync(batchId, earlier.Version, RunStatus.Superseded, [RunStatus.Running, RunStatus.Failed],
                    $"Superseded by version {version}, folded in before it.", changedBy, cancellationToken).ConfigureAwait(false) != TransitionResult.Refused)
            {
                continue;
            }
            if (earlier.Kind == RunKind.Upload && await TransitionAsync(batchId, earlier.Version, status, [RunStatus.Succeeded], $"{verb} by version {version}.",
                    changedBy, cancellationToken).ConfigureAwait(false) == TransitionResult.Won)
            {
                taken.Add(earlier);
            }
        }
        return taken;
    }

    /// <summary>Records that <paramref name="version"/> is the newest version folded into the KPIs (never moves back).</summary>
    public async Task AdvanceAppliedAsync(string batchId, int version, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Table,
                Key = RunItems.Key(batchId, Head),
                UpdateExpression = "SET #applied = :version",
                ConditionExpression = "attribute_not_exists(#applied) OR #applied < :version",
                ExpressionAttributeNames = new() { ["#applied"] = RunItems.AppliedVersion },
                ExpressionAttributeValues = new() { [":version"] = RunItems.Number(version) },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // A newer version is recorded already.
        }
    }

    public async Task<PipelineRun?> GetAsync(string batchId, int version, CancellationToken cancellationToken) =>
        await GetItemAsync(batchId, version, cancellationToken).ConfigureAwait(false) is { } item ? RunItems.FromItem(item) : null;

    /// <summary>The batch name's versions, oldest first, with the one applied; null for a name never seen.</summary>
    public async Task<BatchHistory?> GetHistoryAsync(string batchId, CancellationToken cancellationToken)
    {
        var items = await dynamoDb.QueryAllAsync(new QueryRequest
        {
            TableName = Table,
            ConsistentRead = true,
            KeyConditionExpression = "batch_id = :batch",
            ExpressionAttributeValues = new() { [":batch"] = new AttributeValue(batchId) },
        }, cancellationToken).ConfigureAwait(false);
        if (items.Count == 0)
        {
            return null;
        }
        var head = items.FirstOrDefault(RunItems.IsHead) ?? [];
        return new BatchHistory(batchId,
            RunItems.Int(head, RunItems.LatestVersion),
            RunItems.Int(head, RunItems.AppliedVersion),
            items.Where(i => !RunItems.IsHead(i)).Select(RunItems.FromItem).OrderBy(r => r.Version).ToList(),
            RunItems.AnnouncementsFrom(head));
    }

    /// <summary>Versions still running whose last update is older than <paramref name="cutoff"/>: stuck in a stage.</summary>
    public Task<IReadOnlyList<PipelineRun>> FindStalledAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        ScanAsync(new ScanRequest
        {
            TableName = Table,
            FilterExpression = "#status = :running AND updated_at < :cutoff",
            ExpressionAttributeNames = new() { ["#status"] = RunItems.Status },
            ExpressionAttributeValues = new()
            {
                [":running"] = new AttributeValue(nameof(RunStatus.Running)),
                [":cutoff"] = new AttributeValue(RunItems.Timestamp(cutoff)),
            },
        }, cancellationToken);

    /// <summary>The versions running now: a Scan filtered on the status (the table has no index by status).</summary>
    public Task<IReadOnlyList<PipelineRun>> ListRunningAsync(CancellationToken cancellationToken) =>
        ScanAsync(new ScanRequest
        {
            TableName = Table,
            FilterExpression = "#status = :running",
            ExpressionAttributeNames = new() { ["#status"] = RunItems.Status },
            ExpressionAttributeValues = new() { [":running"] = new AttributeValue(nameof(RunStatus.Running)) },
        }, cancellationToken);

    /// <summary>Failed versions whose failure no alert has announced yet (none since they failed).</summary>
    public Task<IReadOnlyList<PipelineRun>> FindUnannouncedFailuresAsync(CancellationToken cancellationToken) =>
        ScanAsync(new ScanRequest
        {
            TableName = Table,
            FilterExpression = "#status = :failed AND (attribute_not_exists(stages.#notify) OR stages.#notify.started_at < finished_at)",
            ExpressionAttributeNames = new() { ["#status"] = RunItems.Status, ["#notify"] = Stages.Notify },
            ExpressionAttributeValues = new() { [":failed"] = Failed },
        }, cancellationToken);

    /// <summary>The <paramref name="count"/> most recently submitted versions of any batch, newest first (a Scan).</summary>
    public async Task<IReadOnlyList<PipelineRun>> ListRecentAsync(int count, CancellationToken cancellationToken)
    {
        var runs = await ScanAsync(new ScanRequest
        {
            TableName = Table,
            FilterExpression = "#version > :head",
            ExpressionAttributeNames = new() { ["#version"] = RunItems.Version },
            ExpressionAttributeValues = new() { [":head"] = RunItems.Number(Head) },
        }, cancellationToken).ConfigureAwait(false);
        return runs.OrderByDescending(r => r.SubmittedAt).ThenBy(r => r.BatchId, StringComparer.Ordinal).ThenByDescending(r => r.Version).Take(count).ToList();
    }

    private async Task<IReadOnlyList<PipelineRun>> ScanAsync(ScanRequest request, CancellationToken cancellationToken) =>
        (await dynamoDb.ScanAllAsync(request, cancellationToken).ConfigureAwait(false)).Where(i => !RunItems.IsHead(i)).Select(RunItems.FromItem).ToList();

    /// <param name="lastUpdate">Only if nothing changed the version since (its <c>updated_at</c>).</param>
    /// <param name="inStage">Only while the version is in that stage (no later stage has begun).</param>
    private async Task<TransitionResult> TransitionAsync(string batchId, int version, RunStatus target, RunStatus[] from, string summary,
        Dictionary<string, AttributeValue> extra, CancellationToken cancellationToken, DateTimeOffset? lastUpdate = null, string? inStage = null)
    {
        var values = new Dictionary<string, AttributeValue> { [":target"] = new(target.ToString()), [":summary"] = new(summary) };
        var sets = new List<string> { "#status = :target", "summary = :summary", "finished_at = :now", "updated_at = :now" };
        foreach (var (name, value) in extra)
        {
            // A path such as stages.compute has its placeholder without the dot.
            var placeholder = ":" + name.Replace('.', '_');
            values[placeholder] = value;
            sets.Add($"{name} = {placeholder}");
        }
        var fromConditions = from.Select((status, i) =>
        {
            values[$":from{i}"] = new AttributeValue(status.ToString());
            return $"#status = :from{i}";
        });
        var froms = fromConditions.ToList();
        var condition = froms.Count == 1 ? froms[0] : $"({string.Join(" OR ", froms)})";
        if (lastUpdate is { } seen)
        {
            values[":seen"] = new AttributeValue(RunItems.Timestamp(seen));
            condition += " AND updated_at = :seen";
        }
        if (inStage is not null)
        {
            values[":stage"] = new AttributeValue(inStage);
            condition += " AND current_stage = :stage";
        }

        if (await TryUpdateAsync(batchId, version, "SET " + string.Join(", ", sets), condition, [], values, cancellationToken).ConfigureAwait(false) is not null)
        {
            return TransitionResult.Won;
        }
        var current = await GetAsync(batchId, version, cancellationToken).ConfigureAwait(false);
        return current?.Status == target ? TransitionResult.AlreadyThere : TransitionResult.Refused;
    }

    /// <summary>
    /// One conditional update of a version's item (which must exist): the record after it, or null when the condition
    /// does not hold. <c>#status</c> and <c>:now</c> are supplied here; every other placeholder by the caller. A condition
    /// with OR comes in parentheses.
    /// </summary>
    private async Task<PipelineRun?> TryUpdateAsync(string batchId, int version, string update, string condition,
        Dictionary<string, string> names, Dictionary<string, AttributeValue> values, CancellationToken cancellationToken)
    {
        names["#status"] = RunItems.Status;
        values[":now"] = new AttributeValue(RunItems.Timestamp(clock.GetUtcNow()));
        try
        {
            var response = await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Table,
                Key = RunItems.Key(batchId, version),
                UpdateExpression = update,
                ConditionExpression = $"attribute_exists(batch_id) AND {condition}",
                ExpressionAttributeNames = names,
                ExpressionAttributeValues = values,
                ReturnValues = ReturnValue.ALL_NEW,
            }, cancellationToken).ConfigureAwait(false);
            return RunItems.FromItem(response.Attributes);
        }
        catch (ConditionalCheckFailedException)
        {
            return null;
        }
    }

    private Task<PipelineRun?> TryResumeAsync(PipelineRun failed, string messageId, CancellationToken cancellationToken) =>
        TryUpdateAsync(failed.BatchId, failed.Version, "SET #status = :running, attempt = attempt + :one, owner_message = :owner, updated_at = :now REMOVE finished_at",
            "#status = :failed", [],
            new() { [":failed"] = Failed, [":one"] = RunItems.Number(1), [":owner"] = new(messageId), [":running"] = Running }, cancellationToken);

    private async Task<bool> TryAllocateAsync(string batchId, int latest, int next, string contentId, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Table,
                Key = RunItems.Key(batchId, Head),
                UpdateExpression = "SET #latest = :next, #content = :content",
                ConditionExpression = latest == 0 ? "attribute_not_exists(#latest)" : "#latest = :latest",
                ExpressionAttributeNames = new() { ["#latest"] = RunItems.LatestVersion, ["#content"] = RunItems.LatestContent },
                ExpressionAttributeValues = latest == 0
                    ? new() { [":next"] = RunItems.Number(next), [":content"] = new(contentId) }
                    : new() { [":next"] = RunItems.Number(next), [":content"] = new(contentId), [":latest"] = RunItems.Number(latest) },
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    private async Task<bool> TryPutNewAsync(PipelineRun run, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.PutItemAsync(new PutItemRequest
            {
                TableName = Table,
                Item = RunItems.ToItem(run),
                ConditionExpression = "attribute_not_exists(batch_id)",
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    private async Task<Dictionary<string, AttributeValue>?> GetItemAsync(string batchId, int version, CancellationToken cancellationToken)
    {
        var response = await dynamoDb.GetItemAsync(new GetItemRequest
        {
            TableName = Table,
            Key = RunItems.Key(batchId, version),
            ConsistentRead = true,
        }, cancellationToken).ConfigureAwait(false);
        return response.IsItemSet ? response.Item : null;
    }
}
