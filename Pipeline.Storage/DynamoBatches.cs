using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Pipeline.Storage;

/// <summary>
/// Reads and writes by key: one item (a strongly consistent GetItem), or many with BatchGetItem and BatchWriteItem,
/// sending again whatever DynamoDB leaves unprocessed (throttling), backing off, until nothing is left.
/// </summary>
internal static class DynamoBatches
{
    /// <summary>BatchWriteItem's limit of items a request.</summary>
    public const int ItemsPerBatchWrite = 25;

    /// <summary>BatchGetItem's limit of keys a request.</summary>
    public const int KeysPerBatchGet = 100;

    public static async Task<Dictionary<string, AttributeValue>?> GetItemOrNullAsync(this IAmazonDynamoDB dynamoDb, string table,
        Dictionary<string, AttributeValue> key, CancellationToken cancellationToken)
    {
        var request = new GetItemRequest { TableName = table, Key = key, ConsistentRead = true };
        var response = await dynamoDb.GetItemAsync(request, cancellationToken).ConfigureAwait(false);
        return response.IsItemSet ? response.Item : null;
    }

    /// <summary>Puts at most <see cref="ItemsPerBatchWrite"/> items into <paramref name="table"/> with BatchWriteItem.</summary>
    public static Task PutAllAsync(this IAmazonDynamoDB dynamoDb, string table, IEnumerable<Dictionary<string, AttributeValue>> items,
        CancellationToken cancellationToken) =>
        UntilProcessedAsync(
            new Dictionary<string, List<WriteRequest>> { [table] = items.Select(item => new WriteRequest(new PutRequest(item))).ToList() },
            async pending => (await dynamoDb.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = pending }, cancellationToken).ConfigureAwait(false))
                .UnprocessedItems,
            pending => $"{pending.Values.Sum(p => p.Count)} items of {table}",
            cancellationToken);

    /// <summary>Reads the items of at most <see cref="KeysPerBatchGet"/> keys of <paramref name="table"/> with BatchGetItem (strongly consistent).</summary>
    public static async Task<List<Dictionary<string, AttributeValue>>> GetAllAsync(this IAmazonDynamoDB dynamoDb, string table,
        IReadOnlyList<Dictionary<string, AttributeValue>> keys, DynamoProjection projection, CancellationToken cancellationToken)
    {
        var items = new List<Dictionary<string, AttributeValue>>();
        await UntilProcessedAsync(
            new Dictionary<string, KeysAndAttributes>
            {
                [table] = new()
                {
                    Keys = keys.ToList(),
                    ConsistentRead = true,
                    ProjectionExpression = projection.Expression,
                    ExpressionAttributeNames = projection.Names,
                },
            },
            async pending =>
            {
                var response = await dynamoDb.BatchGetItemAsync(new BatchGetItemRequest { RequestItems = pending }, cancellationToken).ConfigureAwait(false);
                items.AddRange(response.Responses?.GetValueOrDefault(table) ?? []);
                return response.UnprocessedKeys;
            },
            pending => $"{pending.Values.Sum(p => p.Keys.Count)} keys of {table}",
            cancellationToken).ConfigureAwait(false);
        return items;
    }

    /// <summary>
    /// Sends a batch request, then again what DynamoDB left unprocessed, backing off, until nothing is left or
    /// <see cref="RetryBudgets.UnprocessedBatchRounds"/> rounds are spent.
    /// </summary>
    private static async Task UntilProcessedAsync<TRequests>(Dictionary<string, TRequests> pending,
        Func<Dictionary<string, TRequests>, Task<Dictionary<string, TRequests>?>> send, Func<Dictionary<string, TRequests>, string> left,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; pending.Count > 0; attempt++)
        {
            if (attempt == RetryBudgets.UnprocessedBatchRounds)
            {
                throw new InvalidOperationException($"DynamoDB left {left(pending)} unprocessed after {RetryBudgets.UnprocessedBatchRounds} attempts.");
            }
            if (attempt > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * Math.Min(attempt, 20)), cancellationToken).ConfigureAwait(false);
            }
            pending = await send(pending).ConfigureAwait(false) is { Count: > 0 } unprocessed ? unprocessed : [];
        }
    }
}

/// <summary>Which attributes a read returns: a projection expression of placeholders (some names are reserved words) and their names.</summary>
internal sealed record DynamoProjection(string Expression, Dictionary<string, string> Names)
{
    /// <summary>Each attribute by the placeholder <c>#name</c>.</summary>
    public static DynamoProjection Of(IEnumerable<string> attributes)
    {
        var names = attributes.ToDictionary(a => "#" + a);
        return new DynamoProjection(string.Join(", ", names.Keys), names);
    }
}
