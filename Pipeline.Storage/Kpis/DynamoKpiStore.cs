using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.Kpis;
using Pipeline.Topology;

namespace Pipeline.Storage.Kpis;

/// <summary>What folding a batch into the KPI tables did.</summary>
/// <param name="AppliedVersion">The batch's version whose data is now in the KPIs (the newest whose contribution is written; a retraction empties them).</param>
/// <param name="Days">Every day the batch's versions touch (all were brought to <paramref name="AppliedVersion"/>).</param>
/// <param name="OrderRows">Order KPI rows written (rows of days that no longer have data are marked removed, and not counted).</param>
public sealed record KpiFold(int AppliedVersion, IReadOnlyList<DateOnly> Days, int OrderRows, int CategoryRows);

/// <summary>
/// Exact, cumulative KPIs in DynamoDB without transactions (the local emulator has none), where a batch can be
/// replaced by a newer version of itself or retracted. (1) Each version's contribution is written under the batch,
/// summary last. (2) Folding brings each day's state — a totals item and customer-count pages, each naming the version
/// of every batch folded into it — to the batch's newest written version, one conditional write per item that takes
/// the old version's contribution out and puts the new one in. (3) The day's KPI rows are computed from its state
/// items and written only if computed from a state at least as new. A fold costs the same however many batches a day
/// has. See docs/kpi-storage.md for why this stays exact.
/// </summary>
public sealed class DynamoKpiStore(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
{
    /// <summary>Customers are counted in pages of 65,536 ids: a page item stays under 200 KB however busy the day.</summary>
    private const int CustomerPageBits = 16;

    /// <summary>BatchWriteItem's limit.</summary>
    private const int ItemsPerBatchWrite = 25;

    private const int ParallelDays = 8;

    /// <summary>BatchGetItem's limit.</summary>
    private const int KeysPerBatchGet = 100;

    /// <summary>Conditional writes on one item that may lose to other folds of the same day before the delivery gives up (and is retried).</summary>
    private const int MaxRaces = 100;

    /// <summary>The state attributes the KPI rows are computed from (placeholders, since some are reserved words).</summary>
    private static Dictionary<string, string> RowInputs => new[] { KpiItems.Part, KpiItems.Version, KpiItems.DistinctCustomers, "orders", "items_sold", "returned_orders", "categories" }
        .ToDictionary(name => "#" + name);

    private string Contributions => topology.KpiContributionsTable.Name;

    private string DayStates => topology.KpiDaysTable.Name;

    /// <summary>
    /// Writes version <paramref name="version"/> of a batch's contribution. Once its summary is written the version is
    /// never written again (a fold may have used it: what it takes out must be what it put in); before that, a write
    /// that died half way is simply done again.
    /// </summary>
    public async Task WriteContributionAsync(string batchId, int version, KpiPartial data, CancellationToken cancellationToken)
    {
        if (await GetAsync(Contributions, KpiItems.ContributionKey(batchId, KpiItems.SummaryPart(version)), cancellationToken).ConfigureAwait(false) is not null)
        {
            return;
        }
        var totals = DayTotals.ByDay(data);
        var customers = data.Days.GroupBy(d => d.OrderDate).ToDictionary(g => g.Key, g => IdPages.Split(g.SelectMany(d => d.CustomerIds), CustomerPageBits));
        var now = clock.GetUtcNow();
        var items = new List<Dictionary<string, AttributeValue>>();
        var summaryDays = new Dictionary<string, AttributeValue>();
        foreach (var (day, dayTotals) in totals.OrderBy(d => d.Key))
        {
            var pages = customers.GetValueOrDefault(day) ?? [];
            var dayItem = KpiItems.ContributionKey(batchId, KpiItems.DayPart(version, day));
            KpiItems.WriteTotals(dayItem, dayTotals);
            items.Add(dayItem);
            foreach (var (page, offsets) in pages)
            {
                var pageItem = KpiItems.ContributionKey(batchId, KpiItems.CustomersPart(version, day, page));
                pageItem[KpiItems.Ids] = KpiItems.Binary(IdPages.Encode(offsets));
                pageItem[KpiItems.DistinctCustomers] = KpiItems.Number(offsets.Count);
                items.Add(pageItem);
            }
            summaryDays[KpiItems.Date(day)] = new AttributeValue { L = pages.Keys.Select(KpiItems.Number).ToList(), IsLSet = true };
        }

        await Parallel.ForEachAsync(items.Chunk(ItemsPerBatchWrite), Options(cancellationToken),
            async (chunk, ct) => await WriteAllAsync(chunk, ct).ConfigureAwait(false)).ConfigureAwait(false);
        // The summary goes last: a fold that sees it finds every item of the version.
        await PutSummaryAsync(batchId, version, summaryDays, retraction: false, now, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes version <paramref name="version"/> of a batch as a retraction: a contribution of nothing.</summary>
    public Task WriteRetractionAsync(string batchId, int version, CancellationToken cancellationToken) =>
        PutSummaryAsync(batchId, version, [], retraction: true, clock.GetUtcNow(), cancellationToken);

    /// <summary>
    /// Brings every day any version of the batch touches to the batch's newest written version, and rewrites those
    /// days' KPI rows. Safe to repeat, to run concurrently with any other fold, and to resume after a crash. Null when
    /// no version of the batch has been written.
    /// </summary>
    public async Task<KpiFold?> FoldAsync(string batchId, CancellationToken cancellationToken)
    {
        var summaries = await dynamoDb.QueryAllAsync(new QueryRequest
        {
            TableName = Contributions,
            ConsistentRead = true,
            KeyConditionExpression = "batch_id = :batch AND begins_with(#part, :summary)",
            ExpressionAttributeNames = new() { ["#part"] = KpiItems.Part },
            ExpressionAttributeValues = new()
            {
                [":batch"] = new AttributeValue(batchId),
                [":summary"] = new AttributeValue(KpiItems.SummaryPrefix),
            },
        }, cancellationToken).ConfigureAwait(false);
        if (summaries.Count == 0)
        {
            return null;
        }

        var target = summaries.Max(s => KpiItems.VersionOfSummary(s[KpiItems.Part].S));
        // Every page of every day that any version has: wherever the batch may have left data.
        var pagesByDay = new Dictionary<DateOnly, SortedSet<long>>();
        foreach (var summary in summaries)
        {
            foreach (var (date, pages) in summary["days"].M ?? [])
            {
                var day = KpiItems.Date(date);
                if (!pagesByDay.TryGetValue(day, out var set))
                {
                    pagesByDay[day] = set = [];
                }
                set.UnionWith((pages.L ?? []).Select(p => long.Parse(p.N, System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        var orderRows = 0;
        var categoryRows = 0;
        await Parallel.ForEachAsync(pagesByDay, Options(cancellationToken), async (day, ct) =>
        {
            await FoldTotalsAsync(batchId, target, day.Key, ct).ConfigureAwait(false);
            foreach (var page in day.Value)
            {
                await FoldCustomersAsync(batchId, target, day.Key, page, ct).ConfigureAwait(false);
            }
            var (orders, categories) = await WriteRowsAsync(day.Key, ct).ConfigureAwait(false);
            Interlocked.Add(ref orderRows, orders);
            Interlocked.Add(ref categoryRows, categories);
        }).ConfigureAwait(false);

        return new KpiFold(target, pagesByDay.Keys.Order().ToList(), orderRows, categoryRows);
    }

    /// <summary>Writes a version's contribution and folds the batch: what Compute does with an accepted upload.</summary>
    public async Task<KpiFold> AddBatchAsync(string batchId, int version, KpiPartial data, CancellationToken cancellationToken)
    {
        await WriteContributionAsync(batchId, version, data, cancellationToken).ConfigureAwait(false);
        return (await FoldAsync(batchId, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Takes every version of a batch out of the KPIs, as version <paramref name="version"/> (a retraction).</summary>
    public async Task<KpiFold> RetractAsync(string batchId, int version, CancellationToken cancellationToken)
    {
        await WriteRetractionAsync(batchId, version, cancellationToken).ConfigureAwait(false);
        return (await FoldAsync(batchId, cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<OrderKpiRow?> GetDayAsync(DateOnly day, CancellationToken cancellationToken) =>
        await GetAsync(topology.OrderKpisTable.Name, new() { [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(day)) }, cancellationToken).ConfigureAwait(false)
            is { } item && !KpiItems.IsRemoved(item) ? KpiItems.ReadOrderRow(item) : null;

    /// <summary>
    /// Every day's row in [from, to], ascending (both ends inclusive): BatchGetItem for 100 days a request, a few
    /// requests at once, so a year is four requests rather than 365.
    /// </summary>
    public async Task<IReadOnlyList<OrderKpiRow>> GetDaysAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        // By day number: a range that ends on DateOnly.MaxValue has no day after it.
        var keys = Enumerable.Range(from.DayNumber, Math.Max(0, to.DayNumber - from.DayNumber + 1))
            .Select(day => new Dictionary<string, AttributeValue> { [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(DateOnly.FromDayNumber(day))) })
            .ToList();
        var items = new System.Collections.Concurrent.ConcurrentBag<Dictionary<string, AttributeValue>>();
        await Parallel.ForEachAsync(keys.Chunk(KeysPerBatchGet), Options(cancellationToken), async (chunk, ct) =>
        {
            foreach (var item in await GetAllAsync(topology.OrderKpisTable.Name, chunk, Projection(KpiItems.OrderRowAttributes), ct).ConfigureAwait(false))
            {
                items.Add(item);
            }
        }).ConfigureAwait(false);
        return items.Where(i => !KpiItems.IsRemoved(i)).Select(KpiItems.ReadOrderRow).OrderBy(r => r.OrderDate).ToList();
    }

    /// <summary>
    /// Every day that has KPIs, ascending: a Scan of the order KPI table (one small row per day) that reads only the
    /// date, for a caller that needs to know where the data is (a default range of "the last days with data").
    /// </summary>
    public async Task<IReadOnlyList<DateOnly>> ListDaysAsync(CancellationToken cancellationToken)
    {
        var items = await dynamoDb.ScanAllAsync(new ScanRequest
        {
            TableName = topology.OrderKpisTable.Name,
            ProjectionExpression = "order_date, #removed",
            ExpressionAttributeNames = new() { ["#removed"] = KpiItems.Removed },
        }, cancellationToken).ConfigureAwait(false);
        return items.Where(i => !KpiItems.IsRemoved(i)).Select(i => KpiItems.Date(i[KpiItems.OrderDate])).Order().ToList();
    }

    /// <summary>A category's rows, by day, optionally limited to [from, to].</summary>
    public async Task<IReadOnlyList<CategoryKpiRow>> GetCategoryAsync(string category, DateOnly? from, DateOnly? to, CancellationToken cancellationToken)
    {
        var (projection, names) = Projection(KpiItems.CategoryRowAttributes);
        var request = new QueryRequest
        {
            TableName = topology.CategoryKpisTable.Name,
            ConsistentRead = true,
            ProjectionExpression = projection,
            ExpressionAttributeNames = names,
            KeyConditionExpression = "#category = :category AND #order_date BETWEEN :from AND :to",
            ExpressionAttributeValues = new()
            {
                [":category"] = new AttributeValue(category),
                [":from"] = new AttributeValue(KpiItems.Date(from ?? DateOnly.MinValue)),
                [":to"] = new AttributeValue(KpiItems.Date(to ?? DateOnly.MaxValue)),
            },
        };
        return (await dynamoDb.QueryAllAsync(request, cancellationToken).ConfigureAwait(false)).Where(i => !KpiItems.IsRemoved(i)).Select(KpiItems.ReadCategoryRow).ToList();
    }

    /// <summary>
    /// Every category that has KPIs (or had: a category whose rows were all taken out is still named), in ordinal order:
    /// a Scan of the category KPI table that reads only the category.
    /// </summary>
    public async Task<IReadOnlyList<string>> ListCategoriesAsync(CancellationToken cancellationToken)
    {
        var items = await dynamoDb.ScanAllAsync(new ScanRequest { TableName = topology.CategoryKpisTable.Name, ProjectionExpression = KpiItems.Category }, cancellationToken)
            .ConfigureAwait(false);
        return items.Select(i => i[KpiItems.Category].S).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The rows of each of <paramref name="categories"/> in [from, to], by category then date: one Query per category (a
    /// few at once), each reading a contiguous range of its partition.
    /// </summary>
    public async Task<IReadOnlyList<CategoryKpiRow>> GetCategoriesAsync(IEnumerable<string> categories, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var rows = new System.Collections.Concurrent.ConcurrentBag<CategoryKpiRow>();
        await Parallel.ForEachAsync(categories.Distinct(), Options(cancellationToken), async (category, ct) =>
        {
            foreach (var row in await GetCategoryAsync(category, from, to, ct).ConfigureAwait(false))
            {
                rows.Add(row);
            }
        }).ConfigureAwait(false);
        return rows.OrderBy(r => r.Category, StringComparer.Ordinal).ThenBy(r => r.OrderDate).ToList();
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
        return (await dynamoDb.QueryAllAsync(request, cancellationToken).ConfigureAwait(false))
            .Where(i => !KpiItems.IsRemoved(i)).Select(KpiItems.ReadCategoryRow).OrderBy(r => r.Category, StringComparer.Ordinal).ToList();
    }

    private async Task PutSummaryAsync(string batchId, int version, Dictionary<string, AttributeValue> days, bool retraction, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var summary = KpiItems.ContributionKey(batchId, KpiItems.SummaryPart(version));
        summary["days"] = new AttributeValue { M = days, IsMSet = true };
        summary["retraction"] = new AttributeValue { BOOL = retraction };
        summary[KpiItems.UpdatedAt] = KpiItems.Timestamp(now);
        await dynamoDb.PutItemAsync(new PutItemRequest { TableName = Contributions, Item = summary }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Brings the day's totals item to <paramref name="target"/> for this batch: out with the version folded in, in with the target.</summary>
    private Task FoldTotalsAsync(string batchId, int target, DateOnly day, CancellationToken cancellationToken) =>
        FoldItemAsync(KpiItems.DayKey(day, KpiItems.TotalsPart), batchId, target, async (state, applied, ct) =>
        {
            var totals = KpiItems.ReadTotals(state);
            if (applied > 0)
            {
                totals = totals.Minus(KpiItems.ReadTotals(await GetAsync(Contributions, KpiItems.ContributionKey(batchId, KpiItems.DayPart(applied, day)), ct).ConfigureAwait(false)));
            }
            totals = totals.Plus(KpiItems.ReadTotals(await GetAsync(Contributions, KpiItems.ContributionKey(batchId, KpiItems.DayPart(target, day)), ct).ConfigureAwait(false)));
            var item = new Dictionary<string, AttributeValue>();
            KpiItems.WriteTotals(item, totals);
            return item;
        }, cancellationToken);

    /// <summary>Brings one customer-count page of the day to <paramref name="target"/> for this batch.</summary>
    private Task FoldCustomersAsync(string batchId, int target, DateOnly day, long page, CancellationToken cancellationToken) =>
        FoldItemAsync(KpiItems.DayKey(day, KpiItems.CustomerCountsPart(page)), batchId, target, async (state, applied, ct) =>
        {
            var counts = CustomerCounts.Decode(KpiItems.BytesOf(state, KpiItems.Counts));
            if (applied > 0)
            {
                counts.Remove(await ContributedCustomersAsync(batchId, applied, day, page, ct).ConfigureAwait(false));
            }
            counts.Add(await ContributedCustomersAsync(batchId, target, day, page, ct).ConfigureAwait(false));
            return new Dictionary<string, AttributeValue>
            {
                [KpiItems.Counts] = KpiItems.Binary(counts.Encode()),
                [KpiItems.DistinctCustomers] = KpiItems.Number(counts.Distinct),
            };
        }, cancellationToken);

    private async Task<IReadOnlyList<ushort>> ContributedCustomersAsync(string batchId, int version, DateOnly day, long page, CancellationToken cancellationToken) =>
        KpiItems.BytesOf(await GetAsync(Contributions, KpiItems.ContributionKey(batchId, KpiItems.CustomersPart(version, day, page)), cancellationToken).ConfigureAwait(false), KpiItems.Ids)
            is { } bytes ? IdPages.Decode(bytes) : [];

    /// <summary>
    /// The one way a day-state item changes: read it; if the batch is folded in at <paramref name="target"/> or later,
    /// stop; otherwise write the content <paramref name="refold"/> makes (given the item and the version folded in now,
    /// 0 for none) with the batch at <paramref name="target"/>, on condition that nobody changed the item meanwhile.
    /// </summary>
    private async Task FoldItemAsync(Dictionary<string, AttributeValue> key, string batchId, int target,
        Func<Dictionary<string, AttributeValue>?, int, CancellationToken, Task<Dictionary<string, AttributeValue>>> refold, CancellationToken cancellationToken)
    {
        for (var race = 0; race < MaxRaces; race++)
        {
            var state = await GetAsync(DayStates, key, cancellationToken).ConfigureAwait(false);
            var applied = KpiItems.ReadApplied(state);
            var current = applied.GetValueOrDefault(batchId);
            if (current >= target)
            {
                return;
            }

            var item = await refold(state, current, cancellationToken).ConfigureAwait(false);
            foreach (var (name, value) in key)
            {
                item[name] = value;
            }
            applied[batchId] = target;
            item[KpiItems.Applied] = KpiItems.AppliedMap(applied);
            var version = KpiItems.Long(state ?? [], KpiItems.Version);
            item[KpiItems.Version] = KpiItems.Number(version + 1);
            item[KpiItems.UpdatedAt] = KpiItems.Timestamp(clock.GetUtcNow());
            try
            {
                await dynamoDb.PutItemAsync(new PutItemRequest
                {
                    TableName = DayStates,
                    Item = item,
                    ConditionExpression = state is null ? "attribute_not_exists(#version)" : "#version = :version",
                    ExpressionAttributeNames = new() { ["#version"] = KpiItems.Version },
                    ExpressionAttributeValues = state is null ? null : new() { [":version"] = KpiItems.Number(version) },
                }, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (ConditionalCheckFailedException)
            {
                // Another fold changed the item first: read it again.
            }
        }
        throw new InvalidOperationException($"The KPI state {string.Join("/", key.Values.Select(v => v.S))} kept changing under {MaxRaces} attempts; the delivery will be retried.");
    }

    /// <summary>
    /// Computes the day's rows from its state items and writes each unless the stored one was computed from a newer
    /// state. Every state item's version only grows, so their sum orders the states a reader can see; the reader after
    /// the last change sees the largest sum, and its rows stay.
    /// </summary>
    private async Task<(int OrderRows, int CategoryRows)> WriteRowsAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var state = await dynamoDb.QueryAllAsync(new QueryRequest
        {
            TableName = DayStates,
            ConsistentRead = true,
            KeyConditionExpression = "order_date = :day",
            // Everything but the customer counts themselves, which can be large.
            ProjectionExpression = string.Join(", ", RowInputs.Keys),
            ExpressionAttributeNames = RowInputs,
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
                ? (topology.OrderKpisTable.Name, KpiItems.RemovedRow(new() { [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(day)) }, stateVersion, now))
                : (topology.OrderKpisTable.Name, KpiItems.OrderRow(orderRow, stateVersion, now)),
        };
        written.AddRange(categoryRows.Select(row => (topology.CategoryKpisTable.Name, KpiItems.CategoryRow(row, stateVersion, now))));
        // Categories that had items on this day and have none now.
        written.AddRange(totals.Categories.Where(c => c.Value.Items == 0).Select(c => (topology.CategoryKpisTable.Name, KpiItems.RemovedRow(
            new() { [KpiItems.Category] = new AttributeValue(c.Key), [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(day)) }, stateVersion, now))));

        var orderRows = 0;
        var categoryRowCount = 0;
        foreach (var (table, item) in written)
        {
            if (await PutIfNotOlderAsync(table, item, stateVersion, cancellationToken).ConfigureAwait(false) && !KpiItems.IsRemoved(item))
            {
                if (table == topology.OrderKpisTable.Name) orderRows++; else categoryRowCount++;
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
                ConditionExpression = "attribute_not_exists(state_version) OR state_version <= :version",
                ExpressionAttributeValues = new() { [":version"] = KpiItems.Number(stateVersion) },
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false; // computed from a newer state already
        }
    }

    /// <summary>Writes items with BatchWriteItem, sending again whatever DynamoDB leaves unprocessed (throttling).</summary>
    private Task WriteAllAsync(IEnumerable<Dictionary<string, AttributeValue>> items, CancellationToken cancellationToken) =>
        UntilProcessedAsync(
            new Dictionary<string, List<WriteRequest>> { [Contributions] = items.Select(item => new WriteRequest(new PutRequest(item))).ToList() },
            async pending => (await dynamoDb.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = pending }, cancellationToken).ConfigureAwait(false)).UnprocessedItems,
            pending => $"{pending.Values.Sum(p => p.Count)} contribution items",
            cancellationToken);

    /// <summary>Reads items by key with BatchGetItem (at most 100 keys), asking again for whatever DynamoDB leaves unprocessed.</summary>
    private async Task<List<Dictionary<string, AttributeValue>>> GetAllAsync(string table, IReadOnlyList<Dictionary<string, AttributeValue>> keys,
        (string Expression, Dictionary<string, string> Names) projection, CancellationToken cancellationToken)
    {
        var items = new List<Dictionary<string, AttributeValue>>();
        await UntilProcessedAsync(
            new Dictionary<string, KeysAndAttributes>
            {
                [table] = new() { Keys = keys.ToList(), ConsistentRead = true, ProjectionExpression = projection.Expression, ExpressionAttributeNames = projection.Names },
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
    /// Sends a batch request, then again what DynamoDB left unprocessed (throttling), backing off, until nothing is left or
    /// <see cref="MaxRaces"/> attempts are spent.
    /// </summary>
    private static async Task UntilProcessedAsync<TRequests>(Dictionary<string, TRequests> pending,
        Func<Dictionary<string, TRequests>, Task<Dictionary<string, TRequests>?>> send, Func<Dictionary<string, TRequests>, string> left, CancellationToken cancellationToken)
    {
        for (var attempt = 0; pending.Count > 0; attempt++)
        {
            if (attempt == MaxRaces)
            {
                throw new InvalidOperationException($"DynamoDB left {left(pending)} unprocessed after {MaxRaces} attempts.");
            }
            if (attempt > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * Math.Min(attempt, 20)), cancellationToken).ConfigureAwait(false);
            }
            pending = await send(pending).ConfigureAwait(false) is { Count: > 0 } unprocessed ? unprocessed : [];
        }
    }

    private async Task<Dictionary<string, AttributeValue>?> GetAsync(string table, Dictionary<string, AttributeValue> key, CancellationToken cancellationToken)
    {
        var response = await dynamoDb.GetItemAsync(new GetItemRequest { TableName = table, Key = key, ConsistentRead = true }, cancellationToken).ConfigureAwait(false);
        return response.IsItemSet ? response.Item : null;
    }

    /// <summary>A projection of a row's attributes (each by a placeholder: some are reserved words) and the removed mark.</summary>
    private static (string Expression, Dictionary<string, string> Names) Projection(IEnumerable<string> attributes)
    {
        var names = attributes.Append(KpiItems.Removed).ToDictionary(a => "#" + a);
        return (string.Join(", ", names.Keys), names);
    }

    private static ParallelOptions Options(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = ParallelDays, CancellationToken = cancellationToken };
}
