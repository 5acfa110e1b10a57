using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.Kpis;
using Pipeline.Topology;

namespace Pipeline.Storage.Kpis;

/// <summary>What folding one batch into the KPI tables changed.</summary>
public sealed record KpiUpdate(IReadOnlyList<DateOnly> Days, IReadOnlyList<string> Categories, int OrderRows, int CategoryRows);

/// <summary>
/// Exact, cumulative KPIs in DynamoDB without transactions (the local emulator has none). For each day a batch
/// touches, (1) its contribution (sums, counts and customers, split over items when large) is written under
/// (day, batch); the items depend on the batch alone, so writing them again changes nothing. (2) The day's KPI rows
/// are recomputed from all contribution items of the day and written only if computed from at least as many items
/// as the stored rows. Items are only ever added, so the most items means the most complete view: a replay rewrites
/// nothing, a crash is repaired by redelivery, and of two batches on the same day the one that writes last reads
/// both. See docs/kpi-storage.md.
/// </summary>
public sealed class DynamoKpiStore(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
{
    /// <summary>Customer ids per item: about 140 KB, well under DynamoDB's 400 KB item limit.</summary>
    public const int CustomersPerItem = 20_000;

    /// <summary>BatchWriteItem's limit.</summary>
    private const int ItemsPerBatchWrite = 25;

    private const int ParallelDays = 8;

    public async Task<KpiUpdate> AddBatchAsync(string batchId, KpiPartial batch, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(batchId);
        var days = SplitByDay(batch);
        var now = clock.GetUtcNow();

        var items = days.SelectMany(d => KpiItems.Contribution(batchId, d.Key, d.Value, CustomersPerItem, now)).ToList();
        await Parallel.ForEachAsync(items.Chunk(ItemsPerBatchWrite), Options(cancellationToken),
            async (chunk, ct) => await WriteAllAsync(chunk, ct).ConfigureAwait(false)).ConfigureAwait(false);

        var orderRows = 0;
        var categoryRows = 0;
        await Parallel.ForEachAsync(days.Keys, Options(cancellationToken), async (day, ct) =>
        {
            var (orders, categories) = await RecomputeDayAsync(day, ct).ConfigureAwait(false);
            Interlocked.Add(ref orderRows, orders);
            Interlocked.Add(ref categoryRows, categories);
        }).ConfigureAwait(false);

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

    /// <summary>Writes items with BatchWriteItem, sending again whatever DynamoDB leaves unprocessed (throttling).</summary>
    private async Task WriteAllAsync(IEnumerable<Dictionary<string, AttributeValue>> items, CancellationToken cancellationToken)
    {
        var pending = new Dictionary<string, List<WriteRequest>>
        {
            [topology.KpiContributionsTable.Name] = items.Select(item => new WriteRequest(new PutRequest(item))).ToList(),
        };
        for (var attempt = 0; pending.Count > 0; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * Math.Min(attempt, 20)), cancellationToken).ConfigureAwait(false);
            }
            var response = await dynamoDb.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = pending }, cancellationToken).ConfigureAwait(false);
            pending = response.UnprocessedItems is { Count: > 0 } unprocessed ? unprocessed : [];
        }
    }

    private async Task<(int OrderRows, int CategoryRows)> RecomputeDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var items = await QueryAllAsync(new QueryRequest
        {
            TableName = topology.KpiContributionsTable.Name,
            ConsistentRead = true,
            KeyConditionExpression = "order_date = :day",
            ExpressionAttributeValues = new() { [":day"] = new AttributeValue(KpiItems.Date(day)) },
        }, cancellationToken).ConfigureAwait(false);

        var contributions = items.Select(KpiItems.ReadContribution).ToList();
        var merged = KpiPartial.Merge(contributions.Select(c => c.Totals));
        var customers = contributions.SelectMany(c => c.Customers).Distinct().Order().ToList();
        var dayTotals = (merged.Days.SingleOrDefault() ?? new DayContribution(day, 0, 0, 0, [])) with { CustomerIds = customers };
        var tables = KpiCalculator.Compute(merged with { Days = [dayTotals] });

        var now = clock.GetUtcNow();
        var orderRows = 0;
        foreach (var row in tables.OrderKpis)
        {
            orderRows += await PutIfNotOlderAsync(topology.OrderKpisTable.Name, KpiItems.OrderRow(row, items.Count, now), items.Count, cancellationToken).ConfigureAwait(false);
        }
        var categoryRows = 0;
        foreach (var row in tables.CategoryKpis)
        {
            categoryRows += await PutIfNotOlderAsync(topology.CategoryKpisTable.Name, KpiItems.CategoryRow(row, items.Count, now), items.Count, cancellationToken).ConfigureAwait(false);
        }
        return (orderRows, categoryRows);
    }

    /// <summary>
    /// Writes a KPI row unless the stored one was computed from more contribution items. Items are only ever added:
    /// once every batch's items are written, the last reader sees them all, and no row from fewer can replace its row.
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

    private static ParallelOptions Options(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = ParallelDays, CancellationToken = cancellationToken };
}
