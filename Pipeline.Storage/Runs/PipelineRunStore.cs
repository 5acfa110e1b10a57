using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Topology;

namespace Pipeline.Storage.Runs;

/// <summary>
/// The pipeline-runs table: one item per batch name. Every update is conditional on the batch's ETag, so a stage
/// still working on an older upload of the same name can never overwrite the record of the newer one.
/// </summary>
public sealed class PipelineRunStore(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
{
    private string Table => topology.PipelineRunsTable.Name;

    /// <summary>Records that a batch entered the pipeline, or tells that it is under way or finished already.</summary>
    public async Task<(RunStart Start, PipelineRun Run)> BeginAsync(
        string batchId, string manifestKey, string manifestETag, string source, CancellationToken cancellationToken)
    {
        if (await GetAsync(batchId, cancellationToken).ConfigureAwait(false) is { } existing && existing.ManifestETag == manifestETag)
        {
            return (existing.IsFinished ? RunStart.AlreadyProcessed : RunStart.InProgress, existing);
        }

        var now = clock.GetUtcNow();
        var run = new PipelineRun(batchId, manifestKey, manifestETag, source, RunStatus.Running, CurrentStage: null,
            now, now, FinishedAt: null, new Dictionary<string, StageRecord>(), Summary: null);
        try
        {
            // Replaces the record of an older upload with the same name, never a concurrent start of this one.
            await dynamoDb.PutItemAsync(new PutItemRequest
            {
                TableName = Table,
                Item = RunItems.ToItem(run),
                ConditionExpression = "attribute_not_exists(batch_id) OR manifest_etag <> :etag",
                ExpressionAttributeValues = new() { [":etag"] = new AttributeValue(manifestETag) },
            }, cancellationToken).ConfigureAwait(false);
            return (RunStart.Started, run);
        }
        catch (ConditionalCheckFailedException)
        {
            var current = (await GetAsync(batchId, cancellationToken).ConfigureAwait(false))!;
            return (current.IsFinished ? RunStart.AlreadyProcessed : RunStart.InProgress, current);
        }
    }

    /// <summary>Records a stage's state (started, succeeded, failed) and makes it the current stage.</summary>
    public Task RecordStageAsync(string batchId, string manifestETag, string stage, StageRecord record, CancellationToken cancellationToken) =>
        UpdateAsync(batchId, manifestETag,
            "SET stages.#stage = :record, current_stage = :stage, updated_at = :now",
            new() { ["#stage"] = stage },
            new() { [":record"] = RunItems.ToAttribute(record), [":stage"] = new AttributeValue(stage) },
            cancellationToken);

    /// <summary>Ends the run with its outcome and a one-paragraph summary.</summary>
    public Task FinishAsync(string batchId, string manifestETag, RunStatus status, string summary, CancellationToken cancellationToken) =>
        UpdateAsync(batchId, manifestETag,
            "SET #status = :status, summary = :summary, finished_at = :now, updated_at = :now",
            new() { ["#status"] = "status" },
            new() { [":status"] = new AttributeValue(status.ToString()), [":summary"] = new AttributeValue(summary) },
            cancellationToken);

    public async Task<PipelineRun?> GetAsync(string batchId, CancellationToken cancellationToken)
    {
        var response = await dynamoDb.GetItemAsync(new GetItemRequest
        {
            TableName = Table,
            Key = new() { ["batch_id"] = new AttributeValue(batchId) },
            ConsistentRead = true,
        }, cancellationToken).ConfigureAwait(false);
        return response.IsItemSet ? RunItems.FromItem(response.Item) : null;
    }

    /// <summary>Runs still under way whose last update is older than <paramref name="cutoff"/>: stuck in a stage.</summary>
    public async Task<IReadOnlyList<PipelineRun>> FindStalledAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var request = new ScanRequest
        {
            TableName = Table,
            FilterExpression = "#status = :running AND updated_at < :cutoff",
            ExpressionAttributeNames = new() { ["#status"] = "status" },
            ExpressionAttributeValues = new()
            {
                [":running"] = new AttributeValue(nameof(RunStatus.Running)),
                [":cutoff"] = new AttributeValue(RunItems.Timestamp(cutoff)),
            },
        };
        return await ScanAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The <paramref name="count"/> most recently submitted runs, newest first (a Scan: the table holds one item per batch name).</summary>
    public async Task<IReadOnlyList<PipelineRun>> ListRecentAsync(int count, CancellationToken cancellationToken)
    {
        var runs = await ScanAsync(new ScanRequest { TableName = Table }, cancellationToken).ConfigureAwait(false);
        return runs.OrderByDescending(r => r.SubmittedAt).ThenBy(r => r.BatchId, StringComparer.Ordinal).Take(count).ToList();
    }

    private async Task<List<PipelineRun>> ScanAsync(ScanRequest request, CancellationToken cancellationToken)
    {
        var runs = new List<PipelineRun>();
        do
        {
            var page = await dynamoDb.ScanAsync(request, cancellationToken).ConfigureAwait(false);
            runs.AddRange((page.Items ?? []).Select(RunItems.FromItem));
            request.ExclusiveStartKey = page.LastEvaluatedKey is { Count: > 0 } next ? next : null;
        }
        while (request.ExclusiveStartKey is not null);
        return runs;
    }

    private async Task UpdateAsync(string batchId, string manifestETag, string update,
        Dictionary<string, string> names, Dictionary<string, AttributeValue> values, CancellationToken cancellationToken)
    {
        values[":etag"] = new AttributeValue(manifestETag);
        values[":now"] = new AttributeValue(RunItems.Timestamp(clock.GetUtcNow()));
        try
        {
            await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Table,
                Key = new() { ["batch_id"] = new AttributeValue(batchId) },
                UpdateExpression = update,
                ConditionExpression = "manifest_etag = :etag",
                ExpressionAttributeNames = names,
                ExpressionAttributeValues = values,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // The record belongs to a newer upload of this batch name (or was never begun): this stale update is dropped.
        }
    }
}
