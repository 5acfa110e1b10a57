using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Topology;

namespace Pipeline.Storage.Runs;

/// <summary>
/// The pipeline-runs table, item by item: reads, a put that never overwrites, and conditional updates that say whether
/// their condition held. Everything else about runs is written in terms of these.
/// </summary>
internal sealed class RunTable(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
{
    private string Name => topology.PipelineRunsTable.Name;

    public DateTimeOffset Now => clock.GetUtcNow();

    public TimeProvider Clock => clock;

    public async Task<Dictionary<string, AttributeValue>?> GetItemAsync(string batchId, int version, CancellationToken cancellationToken)
    {
        var response = await dynamoDb.GetItemAsync(new GetItemRequest
        {
            TableName = Name,
            Key = RunItems.Key(batchId, version),
            ConsistentRead = true,
        }, cancellationToken).ConfigureAwait(false);
        return response.IsItemSet ? response.Item : null;
    }

    public async Task<PipelineRun?> GetAsync(string batchId, int version, CancellationToken cancellationToken) =>
        await GetItemAsync(batchId, version, cancellationToken).ConfigureAwait(false) is { } item ? RunItems.FromItem(item) : null;

    /// <summary>The items of the batch name from version <paramref name="from"/> (0: its head) on, oldest first (a consistent read).</summary>
    public Task<List<Dictionary<string, AttributeValue>>> QueryBatchAsync(string batchId, int from, CancellationToken cancellationToken) =>
        dynamoDb.QueryAllAsync(new QueryRequest
        {
            TableName = Name,
            ConsistentRead = true,
            KeyConditionExpression = $"{RunItems.BatchId} = :batch AND {RunItems.Version} >= :from",
            ExpressionAttributeValues = new() { [":batch"] = new AttributeValue(batchId), [":from"] = RunItems.Number(from) },
        }, cancellationToken);

    /// <summary>The newest <paramref name="count"/> items of the batch name, newest first (its head, version 0, comes last; a consistent read).</summary>
    public Task<List<Dictionary<string, AttributeValue>>> QueryBatchNewestAsync(string batchId, int count, CancellationToken cancellationToken) =>
        dynamoDb.QueryFirstAsync(new QueryRequest
        {
            TableName = Name,
            ConsistentRead = true,
            ScanIndexForward = false,
            KeyConditionExpression = $"{RunItems.BatchId} = :batch",
            ExpressionAttributeValues = new() { [":batch"] = new AttributeValue(batchId) },
        }, count, cancellationToken);

    /// <summary>
    /// The versions one of the table's sparse indexes holds under <paramref name="keyCondition"/>, in the index's order
    /// (backwards with <paramref name="newestFirst"/>), at most <paramref name="count"/>. An index is eventually
    /// consistent: a version's latest write may not be in it yet, so a caller that acts on a version checks the item itself.
    /// </summary>
    public async Task<IReadOnlyList<PipelineRun>> QueryIndexAsync(GlobalIndexSpec index, string keyCondition, Dictionary<string, AttributeValue> values,
        bool newestFirst, int count, CancellationToken cancellationToken)
    {
        var request = new QueryRequest
        {
            TableName = Name,
            IndexName = index.Name,
            KeyConditionExpression = keyCondition,
            ExpressionAttributeValues = values,
            ScanIndexForward = !newestFirst,
            ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
        };
        var items = count == int.MaxValue
            ? await dynamoDb.QueryAllAsync(request, cancellationToken).ConfigureAwait(false)
            : await dynamoDb.QueryFirstAsync(request, count, cancellationToken).ConfigureAwait(false);
        return items.Select(RunItems.FromItem).ToList();
    }

    /// <summary>Writes a version's first record; false when the item exists already.</summary>
    public async Task<bool> TryPutNewAsync(PipelineRun run, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.PutItemAsync(new PutItemRequest
            {
                TableName = Name,
                Item = RunItems.ToItem(run),
                ConditionExpression = $"attribute_not_exists({RunItems.BatchId})",
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    /// <summary>
    /// One conditional update of a version's item (which must exist): the record after it, or null when the condition
    /// does not hold. <c>#status</c> and <c>:now</c> are supplied here; every other placeholder by the caller. A condition
    /// with OR comes in parentheses.
    /// </summary>
    public async Task<PipelineRun?> TryUpdateAsync(string batchId, int version, string update, string condition,
        Dictionary<string, string> names, Dictionary<string, AttributeValue> values, CancellationToken cancellationToken)
    {
        names["#status"] = RunItems.Status;
        values[":now"] = new AttributeValue(RunItems.Timestamp(clock.GetUtcNow()));
        try
        {
            var response = await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Name,
                Key = RunItems.Key(batchId, version),
                UpdateExpression = update,
                ConditionExpression = $"attribute_exists({RunItems.BatchId}) AND {condition}",
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

    /// <summary>One update of the batch's head item (created by it when missing); false when <paramref name="condition"/> does not hold.</summary>
    public async Task<bool> TryUpdateHeadAsync(string batchId, string update, string? condition, Dictionary<string, string> names,
        Dictionary<string, AttributeValue> values, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Name,
                Key = RunItems.Key(batchId, RunItems.HeadVersion),
                UpdateExpression = update,
                ConditionExpression = condition,
                ExpressionAttributeNames = names,
                ExpressionAttributeValues = values,
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }
}
