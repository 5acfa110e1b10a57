using System.Collections.Concurrent;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.Kpis;
using Pipeline.Topology;

namespace Pipeline.Storage.Kpis;

/// <summary>
/// The KPI rows as the dashboard and the command line read them: a day, a range of days, a category's days, the
/// categories of a day, and which days and categories have data. Rows whose day or category no longer has data (every
/// batch that had it was replaced or retracted) are marked removed by the fold and never returned.
/// </summary>
public sealed class KpiQueries(IAmazonDynamoDB dynamoDb, PipelineTopology topology)
{
    private string OrderKpis => topology.OrderKpisTable.Name;

    private string CategoryKpis => topology.CategoryKpisTable.Name;

    public async Task<OrderKpiRow?> GetDayAsync(DateOnly day, CancellationToken cancellationToken) =>
        await dynamoDb.GetItemOrNullAsync(OrderKpis, DayKey(day), cancellationToken).ConfigureAwait(false)
            is { } item && !KpiItems.IsRemoved(item) ? KpiItems.ReadOrderRow(item) : null;

    /// <summary>
    /// The day's KPI state items as stored (its slot items and customer pages; none for a day without data), for checks of
    /// how large they grow (docs/kpi-storage.md, "Costs and limits"); not what the KPIs are read from.
    /// </summary>
    public Task<List<Dictionary<string, AttributeValue>>> GetDayStateItemsAsync(DateOnly day, CancellationToken cancellationToken) =>
        dynamoDb.QueryAllAsync(new QueryRequest
        {
            TableName = topology.KpiDaysTable.Name,
            ConsistentRead = true,
            KeyConditionExpression = "#day = :day",
            ExpressionAttributeNames = new() { ["#day"] = KpiItems.OrderDate },
            ExpressionAttributeValues = new() { [":day"] = new AttributeValue(KpiItems.Date(day)) },
        }, cancellationToken);

    /// <summary>
    /// Every day's row in [from, to], ascending (both ends inclusive): BatchGetItem for 100 days a request, a few
    /// requests at once, so a year is four requests rather than 365.
    /// </summary>
    public async Task<IReadOnlyList<OrderKpiRow>> GetDaysAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        // By day number: a range that ends on DateOnly.MaxValue has no day after it.
        var keys = Enumerable.Range(from.DayNumber, Math.Max(0, to.DayNumber - from.DayNumber + 1))
            .Select(day => (OrderKpis, DayKey(DateOnly.FromDayNumber(day))));
        var projection = RowProjection(KpiItems.OrderRowAttributes);
        var items = await dynamoDb.GetManyAsync(keys, _ => projection, cancellationToken).ConfigureAwait(false);
        return items.Select(i => i.Item).Where(i => !KpiItems.IsRemoved(i)).Select(KpiItems.ReadOrderRow).OrderBy(r => r.OrderDate).ToList();
    }

    /// <summary>
    /// Every day that has KPIs, ascending: a Scan of the order KPI table (one small row per day) that reads only the
    /// date, for a caller that needs to know where the data is (a default range of "the last days with data").
    /// </summary>
    public async Task<IReadOnlyList<DateOnly>> ListDaysAsync(CancellationToken cancellationToken)
    {
        var projection = RowProjection([KpiItems.OrderDate]);
        var items = await dynamoDb.ScanAllAsync(new ScanRequest
        {
            TableName = OrderKpis,
            ProjectionExpression = projection.Expression,
            ExpressionAttributeNames = projection.Names,
        }, cancellationToken).ConfigureAwait(false);
        return items.Where(i => !KpiItems.IsRemoved(i)).Select(i => KpiItems.Date(i[KpiItems.OrderDate])).Order().ToList();
    }

    /// <summary>A category's rows, by day, optionally limited to [from, to].</summary>
    public async Task<IReadOnlyList<CategoryKpiRow>> GetCategoryAsync(string category, DateOnly? from, DateOnly? to, CancellationToken cancellationToken)
    {
        var projection = RowProjection(KpiItems.CategoryRowAttributes);
        var request = new QueryRequest
        {
            TableName = CategoryKpis,
            ConsistentRead = true,
            ProjectionExpression = projection.Expression,
            ExpressionAttributeNames = projection.Names,
            KeyConditionExpression = $"#{KpiItems.Category} = :category AND #{KpiItems.OrderDate} BETWEEN :from AND :to",
            ExpressionAttributeValues = new()
            {
                [":category"] = new AttributeValue(category),
                [":from"] = new AttributeValue(KpiItems.Date(from ?? DateOnly.MinValue)),
                [":to"] = new AttributeValue(KpiItems.Date(to ?? DateOnly.MaxValue)),
            },
        };
        return (await dynamoDb.QueryAllAsync(request, cancellationToken).ConfigureAwait(false))
            .Where(i => !KpiItems.IsRemoved(i)).Select(KpiItems.ReadCategoryRow).ToList();
    }

    /// <summary>
    /// Every category that has KPIs (or had: a category whose rows were all taken out is still named), in ordinal order:
    /// a Scan of the category KPI table that reads only the category.
    /// </summary>
    public async Task<IReadOnlyList<string>> ListCategoriesAsync(CancellationToken cancellationToken)
    {
        var items = await dynamoDb.ScanAllAsync(new ScanRequest { TableName = CategoryKpis, ProjectionExpression = KpiItems.Category }, cancellationToken)
            .ConfigureAwait(false);
        return items.Select(i => i[KpiItems.Category].S).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The rows of each of <paramref name="categories"/> in [from, to], by category then date: one Query per category (a
    /// few at once), each reading a contiguous range of its partition.
    /// </summary>
    public async Task<IReadOnlyList<CategoryKpiRow>> GetCategoriesAsync(IEnumerable<string> categories, DateOnly from, DateOnly to,
        CancellationToken cancellationToken)
    {
        var rows = new ConcurrentBag<CategoryKpiRow>();
        await Parallel.ForEachAsync(categories.Distinct(), RequestConcurrency.Options(cancellationToken), async (category, ct) =>
        {
            foreach (var row in await GetCategoryAsync(category, from, to, ct).ConfigureAwait(false))
            {
                rows.Add(row);
            }
        }).ConfigureAwait(false);
        return rows.OrderBy(r => r.Category, StringComparer.Ordinal).ThenBy(r => r.OrderDate).ToList();
    }

    /// <summary>Every category's row on one day (through the index by order_date).</summary>
    public async Task<IReadOnlyList<CategoryKpiRow>> GetCategoriesOnDayAsync(DateOnly day, CancellationToken cancellationToken) =>
        (await CategoryItemsOnDayAsync(dynamoDb, topology, day, cancellationToken).ConfigureAwait(false))
            .Select(KpiItems.ReadCategoryRow).OrderBy(r => r.Category, StringComparer.Ordinal).ToList();

    /// <summary>The category rows of a day as stored, but those marked removed (through the index by order_date).</summary>
    internal static async Task<IEnumerable<Dictionary<string, AttributeValue>>> CategoryItemsOnDayAsync(
        IAmazonDynamoDB dynamoDb, PipelineTopology topology, DateOnly day, CancellationToken cancellationToken) =>
        (await dynamoDb.QueryAllAsync(new QueryRequest
        {
            TableName = topology.CategoryKpisTable.Name,
            IndexName = topology.CategoryKpisTable.GlobalIndexes.Single().Name,
            KeyConditionExpression = "#day = :day",
            ExpressionAttributeNames = new() { ["#day"] = KpiItems.OrderDate },
            ExpressionAttributeValues = new() { [":day"] = new AttributeValue(KpiItems.Date(day)) },
        }, cancellationToken).ConfigureAwait(false)).Where(i => !KpiItems.IsRemoved(i));

    private static Dictionary<string, AttributeValue> DayKey(DateOnly day) => new() { [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(day)) };

    /// <summary>A row's attributes and the removed mark, which tells a row that is gone.</summary>
    private static DynamoProjection RowProjection(IEnumerable<string> attributes) => DynamoProjection.Of(attributes.Append(KpiItems.Removed));
}
