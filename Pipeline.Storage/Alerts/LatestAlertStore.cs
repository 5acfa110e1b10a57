using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Topology;

namespace Pipeline.Storage.Alerts;

/// <summary>The newest alert as the Notifier noted it, and how many notes there have been (the change marker).</summary>
/// <param name="Count">Grows with every note: a reader that saw a smaller count has something new to show.</param>
/// <param name="AlertJson">The alert's body, as published on the alerts topic.</param>
/// <param name="SentAt">When the Notifier sent it.</param>
/// <param name="TraceParent">
/// The W3C <c>traceparent</c> of the Notifier's span that sent it, if it had one: what a reader does about the alert
/// belongs to the batch's trace.
/// </param>
public sealed record LatestAlert(long Count, string AlertJson, DateTimeOffset SentAt, string? TraceParent);

/// <summary>
/// The single item of <see cref="PipelineTopology.LatestAlertTable"/>: the Notifier notes each alert it sends, and every
/// dashboard task polls the item to learn that the pipeline changed. A queue would hand each alert to one task only; an
/// item is read by all of them, and a task that stops leaves nothing behind.
/// </summary>
public sealed class LatestAlertStore(IAmazonDynamoDB dynamoDb, PipelineTopology topology)
{
    private const string ItemId = "latest";

    private static readonly Dictionary<string, AttributeValue> Key = new() { ["id"] = new AttributeValue(ItemId) };

    /// <summary>
    /// Counts the alert and, unless a newer one was noted meanwhile (two Notifier tasks at once), makes it the latest.
    /// Noting the same alert twice (a delivery repeated) only counts it again: the readers refresh once more.
    /// </summary>
    public async Task NoteAsync(string alertJson, DateTimeOffset sentAt, string? traceParent, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, AttributeValue>
        {
            [":alert"] = new AttributeValue(alertJson),
            [":at"] = new AttributeValue { N = sentAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) },
            [":one"] = new AttributeValue { N = "1" },
        };
        if (traceParent is not null)
        {
            values[":trace"] = new AttributeValue(traceParent);
        }
        try
        {
            await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = topology.LatestAlertTable.Name,
                Key = Key,
                UpdateExpression = traceParent is null
                    ? "SET alert = :alert, sent_at = :at REMOVE trace_parent ADD alerts :one"
                    : "SET alert = :alert, sent_at = :at, trace_parent = :trace ADD alerts :one",
                ConditionExpression = "attribute_not_exists(sent_at) OR sent_at <= :at",
                ExpressionAttributeValues = values,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = topology.LatestAlertTable.Name,
                Key = Key,
                UpdateExpression = "ADD alerts :one",
                ExpressionAttributeValues = new() { [":one"] = new AttributeValue { N = "1" } },
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <returns>Null before the first alert.</returns>
    public async Task<LatestAlert?> ReadAsync(CancellationToken cancellationToken)
    {
        var response = await dynamoDb.GetItemAsync(new GetItemRequest { TableName = topology.LatestAlertTable.Name, Key = Key }, cancellationToken)
            .ConfigureAwait(false);
        var item = response.Item;
        return item is null || item.Count == 0 || !item.TryGetValue("alert", out var alert)
            ? null
            : new LatestAlert(
                long.Parse(item["alerts"].N, CultureInfo.InvariantCulture),
                alert.S,
                DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(item["sent_at"].N, CultureInfo.InvariantCulture)),
                item.TryGetValue("trace_parent", out var traceParent) ? traceParent.S : null);
    }
}
