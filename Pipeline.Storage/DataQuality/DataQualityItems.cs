using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Storage.Kpis;

namespace Pipeline.Storage.DataQuality;

/// <summary>
/// The data-quality table's layout, shared by its checks: a partition per check (<see cref="CheckAttribute"/>), an item per
/// day it judged (<see cref="SubjectAttribute"/>: the day, <c>yyyy-MM-dd</c>).
/// </summary>
internal static class DataQualityItems
{
    public const string CheckAttribute = "check";
    public const string SubjectAttribute = "subject";

    /// <summary>The key of <paramref name="check"/>'s item of <paramref name="day"/>.</summary>
    public static Dictionary<string, AttributeValue> Key(string check, DateOnly day) => new()
    {
        [CheckAttribute] = new AttributeValue(check),
        [SubjectAttribute] = new AttributeValue(KpiItems.Date(day)),
    };

    /// <summary>The day an item is about.</summary>
    public static DateOnly Day(Dictionary<string, AttributeValue> item) => KpiItems.Date(item[SubjectAttribute]);

    /// <summary><paramref name="check"/>'s items of the days in [from, to], ascending: one Query of its partition, strongly consistent.</summary>
    public static Task<List<Dictionary<string, AttributeValue>>> QueryDaysAsync(IAmazonDynamoDB dynamoDb, string table, string check, DateOnly from,
        DateOnly to, CancellationToken cancellationToken) =>
        dynamoDb.QueryAllAsync(new QueryRequest
        {
            TableName = table,
            ConsistentRead = true,
            KeyConditionExpression = "#check = :check AND #subject BETWEEN :from AND :to",
            ExpressionAttributeNames = new() { ["#check"] = CheckAttribute, ["#subject"] = SubjectAttribute },
            ExpressionAttributeValues = new()
            {
                [":check"] = new AttributeValue(check),
                [":from"] = new AttributeValue(KpiItems.Date(from)),
                [":to"] = new AttributeValue(KpiItems.Date(to)),
            },
        }, cancellationToken);
}
