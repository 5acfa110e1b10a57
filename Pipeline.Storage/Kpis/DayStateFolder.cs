using System.Collections.Concurrent;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Topology;

namespace Pipeline.Storage.Kpis;

/// <summary>
/// A day's state as a fold left it or a reader found it: its day item (the sums and counts, one customer page, the list of
/// the others) and the items of the other customer pages that were read or written (null: read, and not there).
/// </summary>
internal sealed record DayState(DateOnly Day, Dictionary<string, AttributeValue>? Item, IReadOnlyDictionary<long, Dictionary<string, AttributeValue>?> Pages)
{
    /// <summary>The pages the day item lists whose items are not here.</summary>
    public IEnumerable<long> Unread => KpiItems.ListedPages(Item).Where(p => !Pages.ContainsKey(p));

    /// <summary>
    /// The version of the day item, then of each page it lists (0 for an item not written yet). Versions only grow, so
    /// two reads that give the same list found the same state.
    /// </summary>
    public IReadOnlyList<long> Versions =>
        [KpiItems.Long(Item ?? [], KpiItems.Version), .. KpiItems.ListedPages(Item).Select(p => KpiItems.Long(Page(p), KpiItems.Version))];

    /// <summary>Distinct customers of the day: the day item's own page and every listed page.</summary>
    public long UniqueCustomers =>
        KpiItems.Long(Item ?? [], KpiItems.DistinctCustomers) + KpiItems.ListedPages(Item).Sum(p => KpiItems.Long(Page(p), KpiItems.DistinctCustomers));

    /// <summary>A listed page's item; empty when it is not written yet.</summary>
    private Dictionary<string, AttributeValue> Page(long page) => Pages.GetValueOrDefault(page) ?? [];
}

/// <summary>
/// Brings the days a batch touches to the batch's target version: the state items and the contributions it needs are read
/// in a few batched reads (BatchGetItem, strongly consistent), then each item that changes is written by one conditional
/// write that takes the version folded in out and puts the target in. A write that loses to another fold reads its item
/// again and redoes it. Each day's item is written before any page item of the day, so that it lists that page first.
/// </summary>
internal sealed class DayStateFolder(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
{
    private string Table => topology.KpiDaysTable.Name;

    /// <summary>
    /// Brings every day any version of the batch touches to the batch's target version; the days' states as the fold left
    /// them. Every day item first (it sets the day's own page and lists the others), then every other page of the batch's,
    /// each step with a bounded number of writes at once: a large batch has many pages a day, and writing a day's pages one
    /// after another would make the fold as slow as the longest chain of round trips.
    /// </summary>
    public async Task<IReadOnlyList<DayState>> FoldAsync(string batchId, BatchContributions contributions, CancellationToken cancellationToken)
    {
        var known = await ReadForFoldAsync(batchId, contributions, cancellationToken).ConfigureAwait(false);
        var target = contributions.Target;
        var dayItems = new ConcurrentDictionary<DateOnly, Dictionary<string, AttributeValue>?>();
        await Parallel.ForEachAsync(contributions.PagesByDay, RequestConcurrency.Options(cancellationToken), async (day, ct) =>
            dayItems[day.Key] = await FoldItemAsync(KpiItems.DayKey(day.Key, KpiItems.TotalsPart), known[day.Key].Item,
                (state, token) => RefoldDayAsync(batchId, target, day.Key, day.Value, state, contributions, token), ct).ConfigureAwait(false))
            .ConfigureAwait(false);

        // Not read: not listed before this fold, so it has no item yet (if it has, the write fails and reads it).
        var otherPages = contributions.PagesByDay
            .SelectMany(day => day.Value.Where(p => p != KpiItems.EmbeddedPage(dayItems[day.Key])).Select(page => (Day: day.Key, Page: page)))
            .ToList();
        var pageItems = new ConcurrentDictionary<(DateOnly Day, long Page), Dictionary<string, AttributeValue>?>();
        await Parallel.ForEachAsync(otherPages, RequestConcurrency.Options(cancellationToken), async (p, ct) =>
            pageItems[p] = await FoldItemAsync(KpiItems.DayKey(p.Day, KpiItems.CustomerCountsPart(p.Page)), known[p.Day].Pages.GetValueOrDefault(p.Page),
                (state, token) => RefoldPageAsync(batchId, target, p.Day, p.Page, state, contributions, token), ct).ConfigureAwait(false))
            .ConfigureAwait(false);

        var pagesOfDay = otherPages.ToLookup(p => p.Day);
        return [.. contributions.PagesByDay.Keys.Order()
            .Select(day => new DayState(day, dayItems[day], pagesOfDay[day].ToDictionary(p => p.Page, p => pageItems[p])))];
    }

    /// <summary>
    /// What the fold needs, in at most three batched reads: (1) every day item and the target's contribution; (2) the
    /// page items of the batch's pages that the day items list, and what the versions folded into the day items contributed;
    /// (3) what the versions folded into those page items contributed. A first upload on days without a state needs only the first.
    /// </summary>
    private async Task<Dictionary<DateOnly, DayState>> ReadForFoldAsync(string batchId, BatchContributions contributions, CancellationToken cancellationToken)
    {
        var target = contributions.Target;
        var dayItems = await ReadAsync(contributions.PagesByDay.Keys.Select(d => (d, KpiItems.TotalsPart)), contributions.PartsOf(target), contributions,
            cancellationToken).ConfigureAwait(false);

        var pageKeys = new List<(DateOnly Day, string Part)>();
        var foldedIntoDays = new List<string>();
        foreach (var (day, visited) in contributions.PagesByDay)
        {
            var item = dayItems.GetValueOrDefault((day, KpiItems.TotalsPart));
            var listed = KpiItems.ListedPages(item);
            pageKeys.AddRange(visited.Where(listed.Contains).Select(p => (day, KpiItems.CustomerCountsPart(p))));
            if (Replacing(item, batchId, target) is { } current)
            {
                foldedIntoDays.AddRange(contributions.PartsOf(current, day, KpiItems.EmbeddedPage(item)));
            }
        }
        var pageItems = await ReadAsync(pageKeys, foldedIntoDays, contributions, cancellationToken).ConfigureAwait(false);
        var foldedIntoPages = pageItems.SelectMany(p => Replacing(p.Value, batchId, target) is { } current
            ? contributions.PartsOf(current, p.Key.Day, KpiItems.PageOfCountsPart(p.Key.Part)).Skip(1)
            : []);
        await ReadAsync([], foldedIntoPages, contributions, cancellationToken).ConfigureAwait(false);

        var pagesOfDay = pageKeys.ToLookup(k => k.Day);
        return contributions.PagesByDay.Keys.ToDictionary(d => d, d => new DayState(d, dayItems.GetValueOrDefault((d, KpiItems.TotalsPart)),
            pagesOfDay[d].ToDictionary(k => KpiItems.PageOfCountsPart(k.Part), k => pageItems.GetValueOrDefault(k))));
    }

    /// <summary>The version of the batch folded into <paramref name="item"/> when the fold takes it out (not none, not the target already).</summary>
    private static int? Replacing(Dictionary<string, AttributeValue>? item, string batchId, int target) =>
        KpiItems.ReadApplied(item).GetValueOrDefault(batchId) is var current && current > 0 && current < target ? current : null;

    /// <summary>One batched read of day-state items and of contribution items not read yet; the state items found, by day and part.</summary>
    private async Task<Dictionary<(DateOnly Day, string Part), Dictionary<string, AttributeValue>>> ReadAsync(IEnumerable<(DateOnly Day, string Part)> states,
        IEnumerable<string> contributionParts, BatchContributions contributions, CancellationToken cancellationToken)
    {
        var parts = contributionParts.Where(contributions.Lacks).Distinct().ToList();
        var keys = states.Select(s => (Table, KpiItems.DayKey(s.Day, s.Part))).Concat(parts.Select(contributions.KeyOf)).ToList();
        if (keys.Count == 0)
        {
            return [];
        }
        var found = await dynamoDb.GetManyAsync(keys, _ => null, cancellationToken).ConfigureAwait(false);
        contributions.Keep(parts, found.Where(f => f.Table == contributions.Table).Select(f => f.Item));
        return found.Where(f => f.Table == Table).ToDictionary(f => (KpiItems.Date(f.Item[KpiItems.OrderDate]), f.Item[KpiItems.Part].S), f => f.Item);
    }

    /// <summary>
    /// The day item with the batch at <paramref name="target"/>: its sums and counts, and the counts of its own page, with
    /// the version folded in taken out and the target put in. A day without a page of its own takes the batch's first page
    /// not listed yet as its own; every other page of the batch's is listed. Null when nothing changes.
    /// </summary>
    private static async Task<Dictionary<string, AttributeValue>?> RefoldDayAsync(string batchId, int target, DateOnly day, SortedSet<long> visited,
        Dictionary<string, AttributeValue>? state, BatchContributions contributions, CancellationToken cancellationToken)
    {
        var applied = KpiItems.ReadApplied(state);
        var current = applied.GetValueOrDefault(batchId);
        var folding = current < target;
        var listed = KpiItems.ListedPages(state);
        var ownPage = KpiItems.EmbeddedPage(state);
        if (folding && ownPage is null)
        {
            // No version folded into this item has customers on a page it does not list: the page's counts start empty.
            ownPage = visited.Where(p => !listed.Contains(p)).Select(p => (long?)p).FirstOrDefault();
        }
        var unlisted = visited.Where(p => p != ownPage && !listed.Contains(p)).ToList();
        if (!folding && unlisted.Count == 0)
        {
            return null;
        }

        var item = new Dictionary<string, AttributeValue>();
        var totals = KpiItems.ReadTotals(state);
        if (folding)
        {
            totals = totals.Minus(await contributions.TotalsAsync(current, day, cancellationToken).ConfigureAwait(false))
                .Plus(await contributions.TotalsAsync(target, day, cancellationToken).ConfigureAwait(false));
            applied[batchId] = target;
        }
        KpiItems.WriteTotals(item, totals);
        if (ownPage is { } page)
        {
            var counts = CustomerCounts.Decode(KpiItems.BytesOf(state, KpiItems.Counts));
            if (folding)
            {
                counts.Remove(await contributions.CustomersAsync(current, day, page, cancellationToken).ConfigureAwait(false));
                counts.Add(await contributions.CustomersAsync(target, day, page, cancellationToken).ConfigureAwait(false));
            }
            item[KpiItems.Page] = KpiItems.Number(page);
            item[KpiItems.Counts] = KpiItems.Binary(counts.Encode());
            item[KpiItems.DistinctCustomers] = KpiItems.Number(counts.Distinct);
        }
        listed.UnionWith(unlisted);
        item[KpiItems.Pages] = KpiItems.PageList(listed);
        item[KpiItems.Applied] = KpiItems.AppliedMap(applied);
        return item;
    }

    /// <summary>One listed customer page of the day with the batch at <paramref name="target"/>; null when it is there already.</summary>
    private static async Task<Dictionary<string, AttributeValue>?> RefoldPageAsync(string batchId, int target, DateOnly day, long page,
        Dictionary<string, AttributeValue>? state, BatchContributions contributions, CancellationToken cancellationToken)
    {
        var applied = KpiItems.ReadApplied(state);
        var current = applied.GetValueOrDefault(batchId);
        if (current >= target)
        {
            return null;
        }
        var counts = CustomerCounts.Decode(KpiItems.BytesOf(state, KpiItems.Counts));
        counts.Remove(await contributions.CustomersAsync(current, day, page, cancellationToken).ConfigureAwait(false));
        counts.Add(await contributions.CustomersAsync(target, day, page, cancellationToken).ConfigureAwait(false));
        applied[batchId] = target;
        return new Dictionary<string, AttributeValue>
        {
            [KpiItems.Counts] = KpiItems.Binary(counts.Encode()),
            [KpiItems.DistinctCustomers] = KpiItems.Number(counts.Distinct),
            [KpiItems.Applied] = KpiItems.AppliedMap(applied),
        };
    }

    /// <summary>
    /// The one way a day-state item changes: <paramref name="refold"/> makes its new content from the item as last known
    /// (null when it does not exist), or null when nothing changes; it is written on condition that nobody changed the
    /// item since, else read again and redone. Returns the item as it now stands.
    /// </summary>
    private async Task<Dictionary<string, AttributeValue>?> FoldItemAsync(Dictionary<string, AttributeValue> key, Dictionary<string, AttributeValue>? state,
        Func<Dictionary<string, AttributeValue>?, CancellationToken, Task<Dictionary<string, AttributeValue>?>> refold, CancellationToken cancellationToken)
    {
        for (var race = 0; race < RetryBudgets.KpiStateRaces; race++)
        {
            if (await refold(state, cancellationToken).ConfigureAwait(false) is not { } item)
            {
                return state;
            }
            foreach (var (name, value) in key)
            {
                item[name] = value;
            }
            var version = KpiItems.Long(state ?? [], KpiItems.Version);
            item[KpiItems.Version] = KpiItems.Number(version + 1);
            item[KpiItems.UpdatedAt] = KpiItems.Timestamp(clock.GetUtcNow());
            try
            {
                await dynamoDb.PutItemAsync(new PutItemRequest
                {
                    TableName = Table,
                    Item = item,
                    ConditionExpression = state is null ? "attribute_not_exists(#version)" : "#version = :version",
                    ExpressionAttributeNames = new() { ["#version"] = KpiItems.Version },
                    ExpressionAttributeValues = state is null ? null : new() { [":version"] = KpiItems.Number(version) },
                }, cancellationToken).ConfigureAwait(false);
                return item;
            }
            catch (ConditionalCheckFailedException)
            {
                // Another fold changed the item first: read it again.
                state = await dynamoDb.GetItemOrNullAsync(Table, key, cancellationToken).ConfigureAwait(false);
            }
        }
        var stateKey = string.Join("/", key.Values.Select(v => v.S));
        throw new InvalidOperationException(
            $"The KPI state {stateKey} kept changing under {RetryBudgets.KpiStateRaces} attempts; the delivery will be retried.");
    }
}
