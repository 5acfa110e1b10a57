using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.Kpis;
using Pipeline.Topology;

namespace Pipeline.Storage.Kpis;

/// <summary>What folding one batch into the KPI tables changed.</summary>
public sealed record KpiUpdate(IReadOnlyList<DateOnly> Days, IReadOnlyList<string> Categories, int OrderRows, int CategoryRows);

/// <summary>
/// Exact, cumulative KPIs in DynamoDB without transactions (the local emulator has none). For each day a batch
/// touches: (1) its customers are added to the day's customer sets (set union: idempotent), (2) its contribution
/// (sums and counts) is written once, conditionally, under (day, batch), and (3) the day's KPI rows are recomputed
/// from all contributions and written only if computed from at least as many contributions as the stored rows.
/// A replay rewrites nothing; a crash is repaired by redelivery; two batches on the same day both end in the row
/// computed from both. See docs/kpi-storage.md.
/// </summary>
public sealed class DynamoKpiStore(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
{
    /// <summary>Customer sets are spread over this many items per day, each well under DynamoDB's 400 KB item limit.</summary>
    public const int CustomerShards = 32;

    /// <summary>Ids per UpdateItem, so that no single request nears the item size limit.</summary>
    private const int CustomersPerRequest = 5_000;

    private const int ParallelDays = 8;

    public async Task<KpiUpdate> AddBatchAsync(string batchId, KpiPartial batch, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(batchId);
        var days = SplitByDay(batch);

        // Customers before contributions: whoever sees a contribution also sees its customers.
        await ForEachDayAsync(days, AddCustomersAsync, cancellationToken).ConfigureAwait(false);
        await ForEachDayAsync(days, (day, slice, ct) => AddContributionAsync(batchId, day, slice, ct), cancellationToken).ConfigureAwait(false);

        var orderRows = 0;
        var categoryRows = 0;
        await ForEachDayAsync(days, async (day, _, ct) =>
        {
            var (orders, categories) = await RecomputeDayAsync(day, ct).ConfigureAwait(false);
            Interlocked.Add(ref orderRows, orders);
            Interlocked.Add(ref categoryRows, categories);
        }, cancellationToken).ConfigureAwait(false);

        return new KpiUpdate(
            days.Keys.Order().ToList(),
            batch.CategoryDays.Select(c => c.Category).Distinct().Order(StringComparer.Ordinal).ToList(),
            orderRows,
            categoryRows);
    }

    public async Task<OrderKpiRow?> GetDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var response = await dynamoDb.GetItemAsync(new GetItemRequest
        {
            TableName = topology.OrderKpisTable.Name,
            Key = new() { [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(day)) },
            ConsistentRead = true,
        }, cancellationToken).ConfigureAwait(false);
        return response.IsItemSet ? KpiItems.ReadOrderRow(response.Item) : null;
    }

    /// <summary>Every day's row in [from, to], ascending (both ends inclusive).</summary>
    public async Task<IReadOnlyList<OrderKpiRow>> GetDaysAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var rows = new List<OrderKpiRow>();
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            if (await GetDayAsync(day, cancellationToken).ConfigureAwait(false) is { } row)
            {
                rows.Add(row);
            }
        }
        return rows;
    }

    /// <summary>A category's rows, by day, optionally limited to [from, to].</summary>
    public async Task<IReadOnlyList<CategoryKpiRow>> GetCategoryAsync(string category, DateOnly? from, DateOnly? to, CancellationToken cancellationToken)
    {
        var request = new QueryRequest
        {
            TableName = topology.CategoryKpisTable.Name,
            ConsistentRead = true,
            KeyConditionExpression = "category = :category AND order_date BETWEEN :from AND :to",
            ExpressionAttributeValues = new()
            {
                [":category"] = new AttributeValue(category),
                [":from"] = new AttributeValue(KpiItems.Date(from ?? DateOnly.MinValue)),
                [":to"] = new AttributeValue(KpiItems.Date(to ?? DateOnly.MaxValue)),
            },
        };
        return (await QueryAllAsync(request, cancellationToken).ConfigureAwait(false)).Select(KpiItems.ReadCategoryRow).ToList();
    }

    /// <summary>Every category's row on one day (through the index by order_date).</summary>
    public async Task<IReadOnlyList<CategoryKpiRow>> GetCategoriesOnDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var request = new QueryRequest
        {
            TableName = topology.CategoryKpisTable.Name,
            IndexName = topology.CategoryKpisTable.GlobalIndexes.Single().Name,
            KeyConditionExpression = "order_date = :day",
            ExpressionAttributeValues = new() { [":day"] = new AttributeValue(KpiItems.Date(day)) },
        };
        return (await QueryAllAsync(request, cancellationToken).ConfigureAwait(false))
            .Select(KpiItems.ReadCategoryRow).OrderBy(r => r.Category, StringComparer.Ordinal).ToList();
    }

    private async Task AddCustomersAsync(DateOnly day, KpiPartial slice, CancellationToken cancellationToken)
    {
        var customers = slice.Days.SingleOrDefault()?.CustomerIds ?? [];
        foreach (var shard in customers.GroupBy(id => (int)((ulong)id % CustomerShards)))
        {
            foreach (var chunk in shard.Chunk(CustomersPerRequest))
            {
                await dynamoDb.UpdateItemAsync(new UpdateItemRequest
                {
                    TableName = topology.DayCustomersTable.Name,
                    Key = new()
                    {
                        [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(day)),
                        [KpiItems.Shard] = KpiItems.Number(shard.Key),
                    },
                    UpdateExpression = "ADD customers :ids",
                    ExpressionAttributeValues = new()
                    {
                        [":ids"] = new AttributeValue { NS = chunk.Select(id => id.ToString(CultureInfo.InvariantCulture)).ToList() },
                    },
                }, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task AddContributionAsync(string batchId, DateOnly day, KpiPartial slice, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.PutItemAsync(new PutItemRequest
            {
                TableName = topology.KpiContributionsTable.Name,
                Item = KpiItems.Contribution(batchId, day, slice, clock.GetUtcNow()),
                ConditionExpression = "attribute_not_exists(batch_id)",
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // Written by an earlier delivery of the same batch: a batch's contribution never changes.
        }
    }

    private async Task<(int OrderRows, int CategoryRows)> RecomputeDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var date = new AttributeValue(KpiItems.Date(day));
        var contributions = await QueryAllAsync(new QueryRequest
        {
            TableName = topology.KpiContributionsTable.Name,
            ConsistentRead = true,
            KeyConditionExpression = "order_date = :day",
            ExpressionAttributeValues = new() { [":day"] = date },
        }, cancellationToken).ConfigureAwait(false);

        // Read after the contributions: every batch counted above wrote its customers before its contribution.
        var shards = await QueryAllAsync(new QueryRequest
        {
            TableName = topology.DayCustomersTable.Name,
            ConsistentRead = true,
            KeyConditionExpression = "order_date = :day",
            ExpressionAttributeValues = new() { [":day"] = date },
        }, cancellationToken).ConfigureAwait(false);
        var customers = shards.SelectMany(s => s.TryGetValue(KpiItems.Customers, out var set) ? set.NS ?? [] : [])
            .Select(id => long.Parse(id, CultureInfo.InvariantCulture)).Distinct().Order().ToList();

        var merged = KpiPartial.Merge(contributions.Select(KpiItems.ReadContribution));
        var dayTotals = merged.Days.Single() with { CustomerIds = customers };
        var tables = KpiCalculator.Compute(merged with { Days = [dayTotals] });

        var now = clock.GetUtcNow();
        var orderRows = 0;
        foreach (var row in tables.OrderKpis)
        {
            orderRows += await PutIfNotOlderAsync(topology.OrderKpisTable.Name, KpiItems.OrderRow(row, contributions.Count, now), contributions.Count, cancellationToken).ConfigureAwait(false);
        }
        var categoryRows = 0;
        foreach (var row in tables.CategoryKpis)
        {
            categoryRows += await PutIfNotOlderAsync(topology.CategoryKpisTable.Name, KpiItems.CategoryRow(row, contributions.Count, now), contributions.Count, cancellationToken).ConfigureAwait(false);
        }
        return (orderRows, categoryRows);
    }

    /// <summary>
    /// Writes a KPI row unless the stored one was computed from more contributions. Contributions are only ever
    /// added, so a row computed from more of them includes everything a row from fewer knew.
    /// </summary>
    private async Task<int> PutIfNotOlderAsync(string table, Dictionary<string, AttributeValue> item, int contributions, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.PutItemAsync(new PutItemRequest
            {
                TableName = table,
                Item = item,
                ConditionExpression = "attribute_not_exists(contribution_count) OR contribution_count <= :count",
                ExpressionAttributeValues = new() { [":count"] = KpiItems.Number(contributions) },
            }, cancellationToken).ConfigureAwait(false);
            return 1;
        }
        catch (ConditionalCheckFailedException)
        {
            return 0; // a newer computation already stored this row
        }
    }

    private async Task<List<Dictionary<string, AttributeValue>>> QueryAllAsync(QueryRequest request, CancellationToken cancellationToken)
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

    /// <summary>The batch's partial cut into one slice per day it touches (by item date or order date).</summary>
    private static Dictionary<DateOnly, KpiPartial> SplitByDay(KpiPartial batch)
    {
        var dates = batch.Days.Select(d => d.OrderDate).Concat(batch.CategoryDays.Select(c => c.OrderDate)).Distinct();
        return dates.ToDictionary(
            date => date,
            date => new KpiPartial(
                batch.CategoryDays.Where(c => c.OrderDate == date).ToList(),
                batch.Days.Where(d => d.OrderDate == date).ToList()));
    }

    private static Task ForEachDayAsync(
        Dictionary<DateOnly, KpiPartial> days, Func<DateOnly, KpiPartial, CancellationToken, Task> action, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(days, new ParallelOptions { MaxDegreeOfParallelism = ParallelDays, CancellationToken = cancellationToken },
            async (entry, ct) => await action(entry.Key, entry.Value, ct).ConfigureAwait(false));
}
