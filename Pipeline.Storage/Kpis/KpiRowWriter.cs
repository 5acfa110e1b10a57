using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Topology;

namespace Pipeline.Storage.Kpis;

/// <summary>
/// The last step of a fold: a day's KPI rows computed from its state items, each written unless the stored one was
/// computed from a newer state. Every state item's version only grows, so their sum orders the states a reader can see;
/// the reader after the last change sees the largest sum, and its rows stay.
/// </summary>
internal sealed class KpiRowWriter(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
{
    /// <summary>The state attributes the KPI rows are computed from: everything but the customer counts themselves, which can be large.</summary>
    private static readonly DynamoProjection RowInputs = DynamoProjection.Of(
        [KpiItems.Part, KpiItems.Version, KpiItems.DistinctCustomers, KpiItems.Orders, KpiItems.ItemsSold, KpiItems.ReturnedOrders, KpiItems.Categories]);

    private string OrderKpis => topology.OrderKpisTable.Name;

    private string CategoryKpis => topology.CategoryKpisTable.Name;

    /// <summary>Computes and writes the day's rows; how many order and category rows with data were written.</summary>
    public async Task<(int OrderRows, int CategoryRows)> WriteDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var state = await dynamoDb.QueryAllAsync(new QueryRequest
        {
            TableName = topology.KpiDaysTable.Name,
            ConsistentRead = true,
            KeyConditionExpression = $"#{KpiItems.OrderDate} = :day",
            ProjectionExpression = RowInputs.Expression,
            ExpressionAttributeNames = new Dictionary<string, string>(RowInputs.Names) { ["#" + KpiItems.OrderDate] = KpiItems.OrderDate },
            ExpressionAttributeValues = new() { [":day"] = new AttributeValue(KpiItems.Date(day)) },
        }, cancellationToken).ConfigureAwait(false);

        var stateVersion = state.Sum(i => KpiItems.Long(i, KpiItems.Version));
        var totals = KpiItems.ReadTotals(state.SingleOrDefault(i => i[KpiItems.Part].S == KpiItems.TotalsPart));
        var uniqueCustomers = state.Where(i => i[KpiItems.Part].S != KpiItems.TotalsPart).Sum(i => KpiItems.Long(i, KpiItems.DistinctCustomers));
        var (orderRow, categoryRows) = totals.Rows(day, uniqueCustomers);
        var now = clock.GetUtcNow();

        var written = new List<(string Table, Dictionary<string, AttributeValue> Item)>
        {
            orderRow is null
                ? (OrderKpis, KpiItems.RemovedRow(new() { [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(day)) }, stateVersion, now))
                : (OrderKpis, KpiItems.OrderRow(orderRow, stateVersion, now)),
        };
        written.AddRange(categoryRows.Select(row => (CategoryKpis, KpiItems.CategoryRow(row, stateVersion, now))));
        // Categories that had items on this day and have none now.
        written.AddRange(totals.Categories.Where(c => c.Value.Items == 0).Select(c => (CategoryKpis, KpiItems.RemovedRow(
            new() { [KpiItems.Category] = new AttributeValue(c.Key), [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(day)) }, stateVersion, now))));

        var orderRows = 0;
        var categoryRowCount = 0;
        foreach (var (table, item) in written)
        {
            if (await PutIfNotOlderAsync(table, item, stateVersion, cancellationToken).ConfigureAwait(false) && !KpiItems.IsRemoved(item))
            {
                if (table == OrderKpis) orderRows++; else categoryRowCount++;
            }
        }
        return (orderRows, categoryRowCount);
    }

    private async Task<bool> PutIfNotOlderAsync(string table, Dictionary<string, AttributeValue> item, long stateVersion, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.PutItemAsync(new PutItemRequest
            {
                TableName = table,
                Item = item,
                ConditionExpression = "attribute_not_exists(#state) OR #state <= :version",
                ExpressionAttributeNames = new() { ["#state"] = KpiItems.StateVersion },
                ExpressionAttributeValues = new() { [":version"] = KpiItems.Number(stateVersion) },
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false; // computed from a newer state already
        }
    }
}
