using Amazon.DynamoDBv2.Model;

namespace Pipeline.Storage.Runs;

/// <summary>What the run records are read for: a batch's history, and the versions that need looking at across all batches.</summary>
internal sealed class RunQueries(RunTable table)
{
    private static AttributeValue Status(RunStatus status) => new(status.ToString());

    public async Task<BatchHistory?> GetHistoryAsync(string batchId, CancellationToken cancellationToken)
    {
        var items = await table.QueryBatchAsync(batchId, cancellationToken).ConfigureAwait(false);
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

    public Task<IReadOnlyList<PipelineRun>> FindStalledAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        table.ScanAsync("#status = :running AND #updated < :cutoff",
            new() { ["#status"] = RunItems.Status, ["#updated"] = RunItems.UpdatedAt },
            new() { [":running"] = Status(RunStatus.Running), [":cutoff"] = new AttributeValue(RunItems.Timestamp(cutoff)) }, cancellationToken);

    public Task<IReadOnlyList<PipelineRun>> ListRunningAsync(CancellationToken cancellationToken) =>
        table.ScanAsync("#status = :running", new() { ["#status"] = RunItems.Status }, new() { [":running"] = Status(RunStatus.Running) }, cancellationToken);

    public Task<IReadOnlyList<PipelineRun>> FindUnannouncedFailuresAsync(CancellationToken cancellationToken) =>
        table.ScanAsync("#status = :failed AND (attribute_not_exists(#stages.#notify) OR #stages.#notify.#started < #finished)",
            new()
            {
                ["#status"] = RunItems.Status,
                ["#stages"] = RunItems.StageRecords,
                ["#notify"] = Stages.Notify,
                ["#started"] = RunItems.StageFields.StartedAt,
                ["#finished"] = RunItems.FinishedAt,
            },
            new() { [":failed"] = Status(RunStatus.Failed) }, cancellationToken);

    public async Task<IReadOnlyList<PipelineRun>> ListRecentAsync(int count, CancellationToken cancellationToken)
    {
        var runs = await table.ScanAsync("#version > :head", new() { ["#version"] = RunItems.Version },
            new() { [":head"] = RunItems.Number(RunItems.HeadVersion) }, cancellationToken).ConfigureAwait(false);
        return runs.OrderByDescending(r => r.SubmittedAt).ThenBy(r => r.BatchId, StringComparer.Ordinal).ThenByDescending(r => r.Version).Take(count).ToList();
    }
}
