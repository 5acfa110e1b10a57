using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Pipeline.Storage;

/// <summary>Every item a Query or Scan matches: DynamoDB answers in pages of at most 1 MB, read here one after the other.</summary>
internal static class DynamoPages
{
    public static async Task<List<Dictionary<string, AttributeValue>>> QueryAllAsync(
        this IAmazonDynamoDB dynamoDb, QueryRequest request, CancellationToken cancellationToken)
    {
        var items = new List<Dictionary<string, AttributeValue>>();
        do
        {
            var page = await dynamoDb.QueryAsync(request, cancellationToken).ConfigureAwait(false);
            items.AddRange(page.Items ?? []);
            request.ExclusiveStartKey = page.LastEvaluatedKey is { Count: > 0 } next ? next : null;
        }
        while (request.ExclusiveStartKey is not null);
        return items;
    }

    /// <summary>The first <paramref name="count"/> items a Query matches, in its order: no more pages than those take.</summary>
    public static async Task<List<Dictionary<string, AttributeValue>>> QueryFirstAsync(
        this IAmazonDynamoDB dynamoDb, QueryRequest request, int count, CancellationToken cancellationToken)
    {
        var items = new List<Dictionary<string, AttributeValue>>();
        while (items.Count < count)
        {
            request.Limit = count - items.Count;
            var page = await dynamoDb.QueryAsync(request, cancellationToken).ConfigureAwait(false);
            items.AddRange(page.Items ?? []);
            request.ExclusiveStartKey = page.LastEvaluatedKey is { Count: > 0 } next ? next : null;
            if (request.ExclusiveStartKey is null)
            {
                break;
            }
        }
        return items;
    }

    public static async Task<List<Dictionary<string, AttributeValue>>> ScanAllAsync(
        this IAmazonDynamoDB dynamoDb, ScanRequest request, CancellationToken cancellationToken)
    {
        var items = new List<Dictionary<string, AttributeValue>>();
        do
        {
            var page = await dynamoDb.ScanAsync(request, cancellationToken).ConfigureAwait(false);
            items.AddRange(page.Items ?? []);
            request.ExclusiveStartKey = page.LastEvaluatedKey is { Count: > 0 } next ? next : null;
        }
        while (request.ExclusiveStartKey is not null);
        return items;
    }
}
