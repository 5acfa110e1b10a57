using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.DataQuality;
using Pipeline.Topology;

namespace Pipeline.Storage.DataQuality;

/// <summary>
/// The freshness verdicts in <see cref="PipelineTopology.DataQualityTable"/>: one item a day (check <c>freshness</c>,
/// subject <c>yyyy-MM-dd</c>). Every change is conditional on the status it changes from, so that of two Notifier tasks
/// that see the same day at once one records it and the other is told; the alert of a status is noted as sent
/// (<c>announced</c>) on condition that the status is still the one announced.
/// </summary>
public sealed class FreshnessStore(IAmazonDynamoDB dynamoDb, PipelineTopology topology)
{
    /// <summary>The check's partition of the data-quality table.</summary>
    public const string Check = "freshness";

    private string Table => topology.DataQualityTable.Name;

    /// <summary>The verdicts of the days in [from, to], ascending (one Query).</summary>
    public async Task<IReadOnlyList<DayFreshness>> ReadAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var items = await DataQualityItems.QueryDaysAsync(dynamoDb, Table, Check, from, to, cancellationToken).ConfigureAwait(false);
        return items.Select(Read).ToList();
    }

    /// <summary>The verdicts of the <paramref name="count"/> latest days that have one, ascending (one Query, read backwards).</summary>
    public async Task<IReadOnlyList<DayFreshness>> ReadLatestAsync(int count, CancellationToken cancellationToken)
    {
        var items = await dynamoDb.QueryFirstAsync(new QueryRequest
        {
            TableName = Table,
            ConsistentRead = true,
            ScanIndexForward = false,
            KeyConditionExpression = "#check = :check",
            ExpressionAttributeNames = new() { ["#check"] = DataQualityItems.CheckAttribute },
            ExpressionAttributeValues = new() { [":check"] = new AttributeValue(Check) },
        }, count, cancellationToken).ConfigureAwait(false);
        return items.Select(Read).Reverse().ToList();
    }

    /// <summary>Records <paramref name="change"/> noticed at <paramref name="now"/>, unless the day's status is no longer its <c>From</c>.</summary>
    /// <returns>False when another task changed the day first.</returns>
    public async Task<bool> ChangeAsync(FreshnessChange change, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, AttributeValue>
        {
            [":to"] = new AttributeValue(Status(change.To)),
            [":deadline"] = new AttributeValue(Instant(change.Deadline)),
            [":now"] = new AttributeValue(Instant(now)),
            // An on-time day has no alert to send.
            [":announced"] = new AttributeValue { BOOL = change.To == FreshnessStatus.OnTime },
        };
        var update = "SET #status = :to, deadline = :deadline, noticed_at = :now, announced = :announced";
        if (change.To == FreshnessStatus.Late)
        {
            update += ", late_noticed_at = :now ADD lapses :one";
            values[":one"] = new AttributeValue { N = "1" };
        }
        string condition;
        if (change.From is { } from)
        {
            condition = "#status = :from";
            values[":from"] = new AttributeValue(Status(from));
        }
        else
        {
            condition = "attribute_not_exists(#status)";
        }
        try
        {
            await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Table,
                Key = Key(change.Day),
                UpdateExpression = update,
                ConditionExpression = condition,
                ExpressionAttributeNames = new() { ["#status"] = "status" },
                ExpressionAttributeValues = values,
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    /// <summary>Notes that the alert of <paramref name="day"/>'s status was sent, if the day is still in that status and lapse.</summary>
    public async Task MarkAnnouncedAsync(DayFreshness day, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Table,
                Key = Key(day.Day),
                UpdateExpression = "SET announced = :true",
                ConditionExpression = "#status = :status AND lapses = :lapses",
                ExpressionAttributeNames = new() { ["#status"] = "status" },
                ExpressionAttributeValues = new()
                {
                    [":true"] = new AttributeValue { BOOL = true },
                    [":status"] = new AttributeValue(Status(day.Status)),
                    [":lapses"] = new AttributeValue { N = day.Lapses.ToString(CultureInfo.InvariantCulture) },
                },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // The day moved on meanwhile: its new status has its own alert.
        }
    }

    /// <summary>The status as stored and as the API gives it: <c>on_time</c>, <c>late</c>, <c>recovered</c>.</summary>
    public static string Status(FreshnessStatus status) => status switch
    {
        FreshnessStatus.OnTime => "on_time",
        FreshnessStatus.Late => "late",
        FreshnessStatus.Recovered => "recovered",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    private static FreshnessStatus ParseStatus(string text) => text switch
    {
        "on_time" => FreshnessStatus.OnTime,
        "late" => FreshnessStatus.Late,
        "recovered" => FreshnessStatus.Recovered,
        _ => throw new InvalidDataException($"'{text}' is not a freshness status."),
    };

    private static DayFreshness Read(Dictionary<string, AttributeValue> item) => new(
        DataQualityItems.Day(item),
        ParseStatus(item["status"].S),
        ParseInstant(item["deadline"].S),
        ParseInstant(item["noticed_at"].S),
        item.TryGetValue("late_noticed_at", out var late) ? ParseInstant(late.S) : null,
        item.TryGetValue("lapses", out var lapses) ? int.Parse(lapses.N, CultureInfo.InvariantCulture) : 0,
        item.TryGetValue("announced", out var announced) && announced.BOOL == true);

    private static Dictionary<string, AttributeValue> Key(DateOnly day) => DataQualityItems.Key(Check, day);

    private static string Instant(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseInstant(string text) =>
        DateTimeOffset.ParseExact(text, "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
