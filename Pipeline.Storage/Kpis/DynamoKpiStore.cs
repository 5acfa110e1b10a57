using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.Kpis;
using Pipeline.Topology;

namespace Pipeline.Storage.Kpis;

/// <summary>What folding a batch into the KPI tables did.</summary>
/// <param name="AppliedVersion">
/// The batch's version whose data is now in the KPIs (the newest whose contribution is written; a retraction
/// empties them).
/// </param>
/// <param name="Days">Every day the batch's versions touch (all were brought to <paramref name="AppliedVersion"/>).</param>
/// <param name="OrderRows">Order KPI rows written (rows of days that no longer have data are marked removed, and not counted).</param>
public sealed record KpiFold(int AppliedVersion, IReadOnlyList<DateOnly> Days, int OrderRows, int CategoryRows);

/// <summary>
/// Exact, cumulative KPIs in DynamoDB without transactions (the local emulator has none), where a batch can be
/// replaced by a newer version of itself or retracted. (1) Each version's contribution is written under the batch,
/// summary last. (2) Folding brings each day's state — a totals item and customer-count pages, each naming the version
/// of every batch folded into it — to the batch's newest written version, one conditional write per item that takes
/// the old version's contribution out and puts the new one in. (3) The day's KPI rows are computed from its state
/// items and written only if computed from a state at least as new (<see cref="KpiRowWriter"/>). A fold costs the same
/// however many batches a day has. See docs/kpi-storage.md for why this stays exact. The rows are read with
/// <see cref="KpiQueries"/>.
/// </summary>
public sealed class DynamoKpiStore(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
{
    private readonly KpiRowWriter _rows = new(dynamoDb, topology, clock);

    private string Contributions => topology.KpiContributionsTable.Name;

    private string DayStates => topology.KpiDaysTable.Name;

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

    /// <summary>
    /// Writes version <paramref name="version"/> of a batch's contribution. Once its summary is written the version is
    /// never written again (a fold may have used it: what it takes out must be what it put in); before that, a write
    /// that died half way is simply done again.
    /// </summary>
    public async Task WriteContributionAsync(string batchId, int version, KpiPartial data, CancellationToken cancellationToken)
    {
        if (await dynamoDb.GetItemOrNullAsync(Contributions, KpiItems.ContributionKey(batchId, KpiItems.SummaryPart(version)), cancellationToken)
                .ConfigureAwait(false) is not null)
        {
            return;
        }
        var totals = DayTotals.ByDay(data);
        var customers = data.Days.GroupBy(d => d.OrderDate)
            .ToDictionary(g => g.Key, g => IdPages.Split(g.SelectMany(d => d.CustomerIds), CustomerPages.Bits));
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

        await Parallel.ForEachAsync(items.Chunk(DynamoBatches.ItemsPerBatchWrite), RequestConcurrency.Options(cancellationToken),
            async (chunk, ct) => await dynamoDb.PutAllAsync(Contributions, chunk, ct).ConfigureAwait(false)).ConfigureAwait(false);
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
            KeyConditionExpression = "#batch = :batch AND begins_with(#part, :summary)",
            ExpressionAttributeNames = new() { ["#batch"] = KpiItems.BatchId, ["#part"] = KpiItems.Part },
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
            foreach (var (date, pages) in summary[KpiItems.SummaryDays].M ?? [])
            {
                var day = KpiItems.Date(date);
                if (!pagesByDay.TryGetValue(day, out var set))
                {
                    pagesByDay[day] = set = [];
                }
                set.UnionWith((pages.L ?? []).Select(p => long.Parse(p.N, CultureInfo.InvariantCulture)));
            }
        }

        var orderRows = 0;
        var categoryRows = 0;
        await Parallel.ForEachAsync(pagesByDay, RequestConcurrency.Options(cancellationToken), async (day, ct) =>
        {
            await FoldTotalsAsync(batchId, target, day.Key, ct).ConfigureAwait(false);
            foreach (var page in day.Value)
            {
                await FoldCustomersAsync(batchId, target, day.Key, page, ct).ConfigureAwait(false);
            }
            var (orders, categories) = await _rows.WriteDayAsync(day.Key, ct).ConfigureAwait(false);
            Interlocked.Add(ref orderRows, orders);
            Interlocked.Add(ref categoryRows, categories);
        }).ConfigureAwait(false);

        return new KpiFold(target, pagesByDay.Keys.Order().ToList(), orderRows, categoryRows);
    }

    private async Task PutSummaryAsync(string batchId, int version, Dictionary<string, AttributeValue> days, bool retraction, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var summary = KpiItems.ContributionKey(batchId, KpiItems.SummaryPart(version));
        summary[KpiItems.SummaryDays] = new AttributeValue { M = days, IsMSet = true };
        summary[KpiItems.Retraction] = new AttributeValue { BOOL = retraction };
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
                totals = totals.Minus(KpiItems.ReadTotals(await ContributionAsync(batchId, KpiItems.DayPart(applied, day), ct).ConfigureAwait(false)));
            }
            totals = totals.Plus(KpiItems.ReadTotals(await ContributionAsync(batchId, KpiItems.DayPart(target, day), ct).ConfigureAwait(false)));
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

    private async Task<IReadOnlyList<ushort>> ContributedCustomersAsync(
        string batchId, int version, DateOnly day, long page, CancellationToken cancellationToken) =>
        KpiItems.BytesOf(await ContributionAsync(batchId, KpiItems.CustomersPart(version, day, page), cancellationToken).ConfigureAwait(false), KpiItems.Ids)
            is { } bytes ? IdPages.Decode(bytes) : [];

    private Task<Dictionary<string, AttributeValue>?> ContributionAsync(string batchId, string part, CancellationToken cancellationToken) =>
        dynamoDb.GetItemOrNullAsync(Contributions, KpiItems.ContributionKey(batchId, part), cancellationToken);

    /// <summary>
    /// The one way a day-state item changes: read it; if the batch is folded in at <paramref name="target"/> or later,
    /// stop; otherwise write the content <paramref name="refold"/> makes (given the item and the version folded in now,
    /// 0 for none) with the batch at <paramref name="target"/>, on condition that nobody changed the item meanwhile.
    /// </summary>
    private async Task FoldItemAsync(Dictionary<string, AttributeValue> key, string batchId, int target,
        Func<Dictionary<string, AttributeValue>?, int, CancellationToken, Task<Dictionary<string, AttributeValue>>> refold, CancellationToken cancellationToken)
    {
        for (var race = 0; race < RetryBudgets.KpiStateRaces; race++)
        {
            var state = await dynamoDb.GetItemOrNullAsync(DayStates, key, cancellationToken).ConfigureAwait(false);
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
        var stateKey = string.Join("/", key.Values.Select(v => v.S));
        throw new InvalidOperationException(
            $"The KPI state {stateKey} kept changing under {RetryBudgets.KpiStateRaces} attempts; the delivery will be retried.");
    }
}
