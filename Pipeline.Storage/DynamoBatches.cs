using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Pipeline.Storage;

/// <summary>
/// Reads and writes by key: one item (a strongly consistent GetItem), or many with BatchGetItem and BatchWriteItem,
/// sending again whatever DynamoDB leaves unprocessed (throttled: after a pause; beyond a response's size limit: at
/// once) until nothing is left.
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

    /// <summary>
    /// Puts every item into its table with BatchWriteItem: <see cref="ItemsPerBatchWrite"/> items a request, whatever
    /// their tables, a few requests at once. Unconditional: each item replaces whatever has its key.
    /// </summary>
    public static Task PutManyAsync(this IAmazonDynamoDB dynamoDb, IEnumerable<(string Table, Dictionary<string, AttributeValue> Item)> items,
        CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(items.Chunk(ItemsPerBatchWrite), RequestConcurrency.Options(cancellationToken), async (chunk, ct) =>
            await UntilProcessedAsync(
                chunk.GroupBy(i => i.Table).ToDictionary(g => g.Key, g => g.Select(i => new WriteRequest(new PutRequest(i.Item))).ToList()),
                async pending => (await dynamoDb.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = pending }, ct).ConfigureAwait(false))
                    .UnprocessedItems,
                requests => requests.Count, "items", ct).ConfigureAwait(false));

    /// <summary>
    /// Reads the items of any number of keys, in any tables, with BatchGetItem (strongly consistent): <see cref="KeysPerBatchGet"/>
    /// keys a request, a few requests at once. Keys without an item are left out; <paramref name="projection"/> gives each
    /// table's attributes (all when null).
    /// </summary>
    public static async Task<List<(string Table, Dictionary<string, AttributeValue> Item)>> GetManyAsync(this IAmazonDynamoDB dynamoDb,
        IEnumerable<(string Table, Dictionary<string, AttributeValue> Key)> keys, Func<string, DynamoProjection?> projection,
        CancellationToken cancellationToken)
    {
        var items = new List<(string Table, Dictionary<string, AttributeValue> Item)>();
        await Parallel.ForEachAsync(keys.Chunk(KeysPerBatchGet), RequestConcurrency.Options(cancellationToken), async (chunk, ct) =>
        {
            var requests = chunk.GroupBy(k => k.Table).ToDictionary(g => g.Key, g => new KeysAndAttributes
            {
                Keys = g.Select(k => k.Key).ToList(),
                ConsistentRead = true,
                ProjectionExpression = projection(g.Key)?.Expression,
                ExpressionAttributeNames = projection(g.Key)?.Names,
            });
            await UntilProcessedAsync(
                requests,
                async pending =>
                {
                    var response = await dynamoDb.BatchGetItemAsync(new BatchGetItemRequest { RequestItems = pending }, ct).ConfigureAwait(false);
                    lock (items)
                    {
                        items.AddRange((response.Responses ?? []).SelectMany(r => r.Value.Select(item => (r.Key, item))));
                    }
                    return response.UnprocessedKeys;
                },
                request => request.Keys.Count, "keys", ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return items;
    }

    /// <summary>
    /// Sends a batch request, then again what DynamoDB left unprocessed, until nothing is left or
    /// <see cref="RetryBudgets.UnprocessedBatchRounds"/> rounds are spent. A round that got nothing through (throttling)
    /// is followed by a pause that grows; one that got some through (a response at its size limit) by none.
    /// </summary>
    private static async Task UntilProcessedAsync<TRequests>(Dictionary<string, TRequests> pending,
        Func<Dictionary<string, TRequests>, Task<Dictionary<string, TRequests>?>> send, Func<TRequests, int> size, string what,
        CancellationToken cancellationToken)
    {
        int Left(Dictionary<string, TRequests> requests) => requests.Values.Sum(size);
        for (int attempt = 0, stalled = 0; pending.Count > 0; attempt++)
        {
            if (attempt == RetryBudgets.UnprocessedBatchRounds)
            {
                throw new InvalidOperationException($"DynamoDB left {Left(pending)} {what} of {string.Join(", ", pending.Keys)} unprocessed " +
                    $"after {RetryBudgets.UnprocessedBatchRounds} attempts.");
            }
            if (stalled > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * Math.Min(stalled, 20)), cancellationToken).ConfigureAwait(false);
            }
            var before = Left(pending);
            pending = await send(pending).ConfigureAwait(false) is { Count: > 0 } unprocessed ? unprocessed : [];
            stalled = Left(pending) < before ? 0 : stalled + 1;
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
