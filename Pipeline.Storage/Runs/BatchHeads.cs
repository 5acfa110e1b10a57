using Amazon.DynamoDBv2.Model;

namespace Pipeline.Storage.Runs;

/// <summary>
/// A batch's head item (version 0) and the versions it orders: taking content up as a version (or recognising it as the
/// latest's), the version applied, and the submissions that came too late. There are no transactions: the head's
/// allocation comes first, and a version whose item is missing is written by whoever finds it missing.
/// </summary>
internal sealed class BatchHeads(RunTable table)
{
    /// <summary>Superseded submissions kept in a batch's head item.</summary>
    private const int MaxAnnouncements = 50;

    /// <summary>Conditional writes that lose a race are retried this often before the caller's delivery fails (and is retried).</summary>
    private const int MaxRaces = 20;

    /// <summary>Takes <paramref name="wanted"/> up as the batch's next version, unless <see cref="BatchLife.TakeUp"/> finds it the latest's content.</summary>
    public async Task<RunBegin> BeginAsync(PipelineRun wanted, CancellationToken cancellationToken)
    {
        var batchId = wanted.BatchId;
        for (var race = 0; race < MaxRaces; race++)
        {
            var head = await table.GetItemAsync(batchId, RunItems.HeadVersion, cancellationToken).ConfigureAwait(false);
            var latest = head is null ? 0 : RunItems.Int(head, RunItems.LatestVersion);
            var latestContent = head?.GetValueOrDefault(RunItems.LatestContent)?.S;
            var latestRun = latest == 0 ? null : await table.GetAsync(batchId, latest, cancellationToken).ConfigureAwait(false);

            switch (BatchLife.TakeUp(latest, latestContent, latestRun, wanted.ContentId, wanted.OwnerMessage))
            {
                case TakeUpStep.CarryOn:
                    return new RunBegin(RunBeginKind.Resumed, latestRun!);
                case TakeUpStep.Duplicate:
                    return new RunBegin(RunBeginKind.Duplicate, latestRun!);
                case TakeUpStep.ResumeFailed:
                    if (await TryResumeAsync(latestRun!, wanted.OwnerMessage!, cancellationToken).ConfigureAwait(false) is { } resumed)
                    {
                        return new RunBegin(RunBeginKind.Resumed, resumed);
                    }
                    break;
                case TakeUpStep.WriteAllocated:
                    if (await table.TryPutNewAsync(wanted with { Version = latest }, cancellationToken).ConfigureAwait(false))
                    {
                        return new RunBegin(RunBeginKind.Started, wanted with { Version = latest });
                    }
                    break;
                case TakeUpStep.NextVersion:
                    if (latest > 0 && latestRun is null)
                    {
                        // Allocated, never written, and now overtaken by other content: record it for the history.
                        await table.TryPutNewAsync(PipelineRun.Interrupted(batchId, latest, wanted.ManifestKey, latestContent!, table.Now), cancellationToken)
                            .ConfigureAwait(false);
                    }
                    var next = wanted with { Version = latest + 1 };
                    if (await TryAllocateAsync(batchId, latest, next.Version, wanted.ContentId, cancellationToken).ConfigureAwait(false)
                        && await table.TryPutNewAsync(next, cancellationToken).ConfigureAwait(false))
                    {
                        return new RunBegin(RunBeginKind.Started, next);
                    }
                    break;
            }
        }
        throw new InvalidOperationException(
            $"Batch {batchId}: could not take up a version after {MaxRaces} concurrent changes; the delivery will be retried.");
    }

    /// <summary>Notes a submission whose manifest a newer upload had replaced; the head keeps the first <see cref="MaxAnnouncements"/>.</summary>
    public async Task RecordSupersededAsync(string batchId, SupersededAnnouncement announcement, CancellationToken cancellationToken)
    {
        var names = new Dictionary<string, string> { ["#superseded"] = RunItems.Superseded };
        await table.TryUpdateHeadAsync(batchId, "SET #superseded = if_not_exists(#superseded, :empty)", null, names,
            new() { [":empty"] = new AttributeValue { M = [], IsMSet = true } }, cancellationToken).ConfigureAwait(false);
        // Beyond the limit the condition fails: enough of them are kept to tell the story.
        await table.TryUpdateHeadAsync(batchId, "SET #superseded.#etag = :announcement", "size(#superseded) < :max",
            new(names) { ["#etag"] = announcement.ManifestETag },
            new() { [":announcement"] = RunItems.ToAttribute(announcement), [":max"] = RunItems.Number(MaxAnnouncements) }, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Records that <paramref name="version"/> is the newest version folded into the KPIs, and which version it took over
    /// (never moves back): one conditional write on the head, so of two folds recorded at once one comes after the other.
    /// Returns the head as this call left it: this version and the one before it, or the newer version recorded already.
    /// </summary>
    public async Task<AppliedVersions> AdvanceAppliedAsync(string batchId, int version, CancellationToken cancellationToken)
    {
        var names = new Dictionary<string, string> { ["#applied"] = RunItems.AppliedVersion, ["#previous"] = RunItems.PreviousApplied };
        for (var race = 0; race < MaxRaces; race++)
        {
            var head = await GetAppliedAsync(batchId, cancellationToken).ConfigureAwait(false);
            if (head.Applied >= version)
            {
                return head;
            }
            var values = new Dictionary<string, AttributeValue> { [":version"] = RunItems.Number(version), [":previous"] = RunItems.Number(head.Applied) };
            var unchanged = head.Applied == 0 ? "attribute_not_exists(#applied)" : "#applied = :previous";
            if (await table.TryUpdateHeadAsync(batchId, "SET #applied = :version, #previous = :previous", unchanged, names, values, cancellationToken)
                    .ConfigureAwait(false))
            {
                return new AppliedVersions(version, head.Applied);
            }
        }
        throw new InvalidOperationException(
            $"Batch {batchId}: could not record version {version} as applied after {MaxRaces} concurrent changes; the delivery will be retried.");
    }

    /// <summary>The head's record of the version applied and the one before it (zeros for a batch with none).</summary>
    public async Task<AppliedVersions> GetAppliedAsync(string batchId, CancellationToken cancellationToken) =>
        await table.GetItemAsync(batchId, RunItems.HeadVersion, cancellationToken).ConfigureAwait(false) is { } head
            ? new AppliedVersions(RunItems.Int(head, RunItems.AppliedVersion), RunItems.Int(head, RunItems.PreviousApplied))
            : new AppliedVersions(0, 0);

    /// <summary>The Resume transition of a version taken up again by a new submission of its content.</summary>
    private Task<PipelineRun?> TryResumeAsync(PipelineRun failed, string messageId, CancellationToken cancellationToken) =>
        table.TryUpdateAsync(failed.BatchId, failed.Version,
            $"SET #status = :running, {RunItems.OpenStatus} = :running, {RunItems.Attempt} = {RunItems.Attempt} + :one, {RunItems.OwnerMessage} = :owner, "
            + $"{RunItems.UpdatedAt} = :now "
            + $"REMOVE {RunItems.FinishedAt}",
            "#status = :failed", [],
            new()
            {
                [":failed"] = new(nameof(RunStatus.Failed)),
                [":one"] = RunItems.Number(1),
                [":owner"] = new(messageId),
                [":running"] = new(nameof(RunStatus.Running)),
            }, cancellationToken);

    private Task<bool> TryAllocateAsync(string batchId, int latest, int next, string contentId, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, AttributeValue> { [":next"] = RunItems.Number(next), [":content"] = new(contentId) };
        if (latest > 0)
        {
            values[":latest"] = RunItems.Number(latest);
        }
        return table.TryUpdateHeadAsync(batchId, "SET #latest = :next, #content = :content",
            latest == 0 ? "attribute_not_exists(#latest)" : "#latest = :latest",
            new() { ["#latest"] = RunItems.LatestVersion, ["#content"] = RunItems.LatestContent }, values, cancellationToken);
    }
}
