using Amazon.DynamoDBv2.Model;
using Pipeline.Topology;

namespace Pipeline.Storage.Runs;

/// <summary>What the run records are read for: a batch's history, and the versions that need looking at across all batches.</summary>
internal sealed class RunQueries(RunTable table, PipelineTopology topology)
{
    private static AttributeValue Status(RunStatus status) => new(status.ToString());

    public async Task<BatchHistory?> GetHistoryAsync(string batchId, CancellationToken cancellationToken)
    {
        var items = await table.QueryBatchAsync(batchId, RunItems.HeadVersion, cancellationToken).ConfigureAwait(false);
        return items.Count == 0
            ? null
            : HistoryOf(batchId, items.FirstOrDefault(RunItems.IsHead) ?? [], items.Where(i => !RunItems.IsHead(i)).Select(RunItems.FromItem));
    }

    /// <summary>
    /// The batch's newest <paramref name="count"/> versions, and the one in force when it is older: a page of the history
    /// that reads as many items however many versions the name has.
    /// </summary>
    public async Task<BatchHistory?> GetRecentHistoryAsync(string batchId, int count, CancellationToken cancellationToken)
    {
        var items = await table.QueryBatchNewestAsync(batchId, count + 1, cancellationToken).ConfigureAwait(false);
        if (items.Count == 0)
        {
            return null;
        }
        var head = items.FirstOrDefault(RunItems.IsHead)
            ?? await table.GetItemAsync(batchId, RunItems.HeadVersion, cancellationToken).ConfigureAwait(false) ?? [];
        var versions = items.Where(i => !RunItems.IsHead(i)).Take(count).Select(RunItems.FromItem).ToList();
        var applied = RunItems.Int(head, RunItems.AppliedVersion);
        if (applied > 0 && versions.All(v => v.Version != applied)
            && await table.GetAsync(batchId, applied, cancellationToken).ConfigureAwait(false) is { } older)
        {
            versions.Add(older);
        }
        return HistoryOf(batchId, head, versions);
    }

    private static BatchHistory HistoryOf(string batchId, Dictionary<string, AttributeValue> head, IEnumerable<PipelineRun> versions) =>
        new(batchId, RunItems.Int(head, RunItems.LatestVersion), RunItems.Int(head, RunItems.AppliedVersion), versions.OrderBy(r => r.Version).ToList(),
            RunItems.AnnouncementsFrom(head));

    /// <summary>
    /// The batch's versions from <paramref name="from"/> on (and no head): what a fold can still change, when the fold of
    /// <paramref name="from"/> closed every version before it.
    /// </summary>
    public async Task<BatchHistory> GetVersionsFromAsync(string batchId, int from, CancellationToken cancellationToken)
    {
        var items = await table.QueryBatchAsync(batchId, Math.Max(from, 1), cancellationToken).ConfigureAwait(false);
        return new BatchHistory(batchId, 0, 0, items.Select(RunItems.FromItem).ToList(), []);
    }

    /// <summary>
    /// Running versions last updated before <paramref name="cutoff"/>, from the open-runs index (the write that fails one
    /// checks the item's own updated_at).
    /// </summary>
    public Task<IReadOnlyList<PipelineRun>> FindStalledAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        table.QueryIndexAsync(topology.OpenRunsIndex, $"{RunItems.OpenStatus} = :running AND {RunItems.UpdatedAt} < :cutoff",
            new() { [":running"] = Status(RunStatus.Running), [":cutoff"] = new AttributeValue(RunItems.Timestamp(cutoff)) }, false, int.MaxValue,
            cancellationToken);

    public Task<IReadOnlyList<PipelineRun>> ListRunningAsync(CancellationToken cancellationToken) =>
        table.QueryIndexAsync(topology.OpenRunsIndex, $"{RunItems.OpenStatus} = :running", new() { [":running"] = Status(RunStatus.Running) }, false,
            int.MaxValue, cancellationToken);

    /// <summary>
    /// The failed versions the open-runs index holds, each read again from its item (a consistent read): the index may
    /// lag a write that announced, resumed or closed it, and only the item's own open status says it still awaits its alert.
    /// </summary>
    public async Task<IReadOnlyList<PipelineRun>> FindUnannouncedFailuresAsync(CancellationToken cancellationToken)
    {
        var nominated = await table.QueryIndexAsync(topology.OpenRunsIndex, $"{RunItems.OpenStatus} = :failed",
            new() { [":failed"] = Status(RunStatus.Failed) }, false, int.MaxValue, cancellationToken).ConfigureAwait(false);
        var unannounced = new List<PipelineRun>();
        foreach (var run in nominated)
        {
            if (await table.GetItemAsync(run.BatchId, run.Version, cancellationToken).ConfigureAwait(false) is { } item
                && item.GetValueOrDefault(RunItems.OpenStatus)?.S == nameof(RunStatus.Failed))
            {
                unannounced.Add(RunItems.FromItem(item));
            }
        }
        return unannounced;
    }

    /// <summary>The <paramref name="count"/> most recently submitted versions, newest first: the by-submission index read backwards.</summary>
    public Task<IReadOnlyList<PipelineRun>> ListRecentAsync(int count, CancellationToken cancellationToken) =>
        table.QueryIndexAsync(topology.RunsBySubmissionIndex, $"{RunItems.Listed} = :listed", new() { [":listed"] = new AttributeValue(RunItems.ListedIn) },
            true, count, cancellationToken);
}
