using System.Collections.Concurrent;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.Kpis;
using Pipeline.Topology;

namespace Pipeline.Storage.Kpis;

/// <summary>
/// A day's state as a fold left it or a reader found it, by part (null: read, and not there): its slot items (the root,
/// and the children of every full one), each with the sums and counts of its batches, one customer page and the list of
/// the others, and the items of those other pages.
/// </summary>
internal sealed record DayState(DateOnly Day, IReadOnlyDictionary<string, Dictionary<string, AttributeValue>?> Items)
{
    /// <summary>Whether the day has more than its root slot (the root is full): its customer pages may then be in several slots.</summary>
    public bool Split => KpiItems.FanoutOf(Items.GetValueOrDefault(KpiItems.TotalsPart)) > 0;

    /// <summary>The parts the state items read so far name (slots and their listed pages) that are not read yet.</summary>
    public IEnumerable<string> Unread => Parts.Where(p => !Items.ContainsKey(p));

    /// <summary>
    /// The version of every item of the state, root first (0 for an item not written yet). Versions only grow, and an item
    /// that names another (a full slot its children, a slot its pages) changed when it started to, so two reads that give
    /// the same list found the same state.
    /// </summary>
    public IReadOnlyList<long> Versions => [.. Parts.Select(p => KpiItems.Long(Items.GetValueOrDefault(p) ?? [], KpiItems.Version))];

    /// <summary>The sums and counts of the day: those of its slots added up.</summary>
    public DayTotals Totals => Slots.Aggregate(DayTotals.Empty, (sum, slot) => sum.Plus(KpiItems.ReadTotals(slot.Item)));

    /// <summary>
    /// Distinct customers of the day, page by page: a page held by one item counts that item's distinct customers; one
    /// held by several slots counts the customers that any of them has (their counts merged).
    /// </summary>
    public long UniqueCustomers => Slots
        .SelectMany(slot => KpiItems.ListedPages(slot.Item)
            .Select(page => (Page: (long?)page, Item: Items.GetValueOrDefault(KpiItems.CustomerCountsPart(slot.Path, page))))
            .Prepend((Page: KpiItems.EmbeddedPage(slot.Item), slot.Item)))
        .Where(held => held.Page is not null && held.Item is not null)
        .GroupBy(held => held.Page)
        .Sum(page => page.Count() == 1
            ? KpiItems.Long(page.Single().Item!, KpiItems.DistinctCustomers)
            : CustomerCounts.DistinctOver(page.Select(held => KpiItems.BytesOf(held.Item, KpiItems.Counts)
                ?? throw new InvalidOperationException($"The customer counts of page {page.Key} on {Day} were not read."))));

    /// <summary>Every part of the state as far as it is read: each slot, then its listed pages, then its children.</summary>
    private IEnumerable<string> Parts => Slots.SelectMany(slot => KpiItems.ListedPages(slot.Item)
        .Select(page => KpiItems.CustomerCountsPart(slot.Path, page)).Prepend(KpiItems.SlotPart(slot.Path)));

    /// <summary>The slots as far as read, root first (an item not read yet, or not written, names no children).</summary>
    private IEnumerable<(string Path, Dictionary<string, AttributeValue>? Item)> Slots
    {
        get
        {
            var slots = new Queue<string>([""]);
            while (slots.TryDequeue(out var slot))
            {
                var item = Items.GetValueOrDefault(KpiItems.SlotPart(slot));
                yield return (slot, item);
                for (var child = 0; child < KpiItems.FanoutOf(item); child++)
                {
                    slots.Enqueue(KpiItems.ChildSlot(slot, child));
                }
            }
        }
    }
}

/// <summary>
/// Brings the days a batch touches to the batch's target version: the state items and the contributions it needs are read
/// in a few batched reads (BatchGetItem, strongly consistent), then each item that changes is written by one conditional
/// write that takes the version folded in out and puts the target in. A write that loses to another fold reads its item
/// again and redoes it. On each day the batch lives in one slot item: the root, unless the root was full before the batch
/// first came, then the child its name hashes to (and so on down). The slot item is written before any page item of the
/// slot, so that it lists that page first.
/// </summary>
internal sealed class DayStateFolder(IAmazonDynamoDB dynamoDb, PipelineTopology topology, KpiStateLimits limits, TimeProvider clock)
{
    private string Table => topology.KpiDaysTable.Name;

    /// <summary>
    /// Brings every day any version of the batch touches to the batch's target version; the days' states as the fold left
    /// them. Every day's slot item first (it sets the slot's own page and lists the others), then every other page of the
    /// batch's, each step with a bounded number of writes at once: a large batch has many pages a day, and writing a day's
    /// pages one after another would make the fold as slow as the longest chain of round trips.
    /// </summary>
    public async Task<IReadOnlyList<DayState>> FoldAsync(string batchId, BatchContributions contributions, CancellationToken cancellationToken)
    {
        var known = await ReadForFoldAsync(batchId, contributions, cancellationToken).ConfigureAwait(false);
        // Each day's view takes in the slot items its task writes or reads; the page items are added after the pages' step.
        var slots = new ConcurrentDictionary<DateOnly, (string Slot, Dictionary<string, AttributeValue>? Item)>();
        await Parallel.ForEachAsync(contributions.PagesByDay, RequestConcurrency.Options(cancellationToken), async (day, ct) =>
            slots[day.Key] = await FoldSlotAsync(batchId, day.Key, day.Value, known[day.Key], contributions, ct).ConfigureAwait(false))
            .ConfigureAwait(false);

        // Not read: not listed before this fold, so it has no item yet (if it has, the write fails and reads it).
        var otherPages = contributions.PagesByDay
            .SelectMany(day => day.Value.Where(p => p != KpiItems.EmbeddedPage(slots[day.Key].Item))
                .Select(page => (Day: day.Key, Part: KpiItems.CustomerCountsPart(slots[day.Key].Slot, page), Page: page)))
            .ToList();
        var pageItems = new ConcurrentDictionary<(DateOnly Day, string Part), Dictionary<string, AttributeValue>?>();
        await Parallel.ForEachAsync(otherPages, RequestConcurrency.Options(cancellationToken), async (p, ct) =>
            pageItems[(p.Day, p.Part)] = await FoldItemAsync(KpiItems.DayKey(p.Day, p.Part), known[p.Day].Items.GetValueOrDefault(p.Part),
                (state, token) => RefoldPageAsync(batchId, contributions.Target, p.Day, p.Page, state, contributions, token), ct).ConfigureAwait(false))
            .ConfigureAwait(false);

        foreach (var ((day, part), item) in pageItems)
        {
            known[day].Items[part] = item;
        }
        return [.. contributions.PagesByDay.Keys.Order().Select(day => new DayState(day, known[day].Items))];
    }

    /// <summary>
    /// What the fold needs, in a few batched reads: (1) every root slot item and the target's contribution; (1b) only on a
    /// day whose root is full and does not hold the batch, the child slot item the batch goes to (a round per depth); (2) the
    /// page items of the batch's pages that those slot items list, and what the versions folded into the slot items
    /// contributed; (3) what the versions folded into those page items contributed. A first upload on days without a state
    /// needs only the first.
    /// </summary>
    private async Task<Dictionary<DateOnly, FoldView>> ReadForFoldAsync(string batchId, BatchContributions contributions, CancellationToken cancellationToken)
    {
        var target = contributions.Target;
        var views = contributions.PagesByDay.Keys.ToDictionary(d => d, _ => new FoldView());
        var slotKeys = views.Keys.Select(d => (d, KpiItems.TotalsPart)).ToList();
        var contributionParts = contributions.PartsOf(target);
        while (slotKeys.Count > 0)
        {
            await ReadAsync(slotKeys, contributionParts, views, contributions, cancellationToken).ConfigureAwait(false);
            contributionParts = [];
            slotKeys = [];
            foreach (var (day, view) in views)
            {
                if (Passes(view.SlotItem, batchId) is { } child)
                {
                    view.Slot = KpiItems.ChildSlot(view.Slot, batchId, child);
                    slotKeys.Add((day, KpiItems.SlotPart(view.Slot)));
                }
            }
        }

        var pageKeys = new List<(DateOnly Day, string Part)>();
        var foldedIntoSlots = new List<string>();
        foreach (var (day, visited) in contributions.PagesByDay)
        {
            var view = views[day];
            var listed = KpiItems.ListedPages(view.SlotItem);
            pageKeys.AddRange(visited.Where(listed.Contains).Select(p => (day, KpiItems.CustomerCountsPart(view.Slot, p))));
            if (Replacing(view.SlotItem, batchId, target) is { } current)
            {
                foldedIntoSlots.AddRange(contributions.PartsOf(current, day, KpiItems.EmbeddedPage(view.SlotItem)));
            }
        }
        await ReadAsync(pageKeys, foldedIntoSlots, views, contributions, cancellationToken).ConfigureAwait(false);
        var foldedIntoPages = contributions.PagesByDay.SelectMany(day => day.Value
            .Select(page => (Page: page, Item: views[day.Key].Items.GetValueOrDefault(KpiItems.CustomerCountsPart(views[day.Key].Slot, page))))
            .SelectMany(p => Replacing(p.Item, batchId, target) is { } current ? contributions.PartsOf(current, day.Key, p.Page).Skip(1) : []));
        await ReadAsync([], foldedIntoPages, views, contributions, cancellationToken).ConfigureAwait(false);
        return views;
    }

    /// <summary>The version of the batch folded into <paramref name="item"/> when the fold takes it out (not none, not the target already).</summary>
    private static int? Replacing(Dictionary<string, AttributeValue>? item, string batchId, int target) =>
        KpiItems.ReadApplied(item).GetValueOrDefault(batchId) is var current && current > 0 && current < target ? current : null;

    /// <summary>The fanout of a full slot item that does not hold the batch (the batch goes to one of its children); else null.</summary>
    private static int? Passes(Dictionary<string, AttributeValue>? slotItem, string batchId) =>
        KpiItems.FanoutOf(slotItem) is > 0 and var fanout && !KpiItems.ReadApplied(slotItem).ContainsKey(batchId) ? fanout : null;

    /// <summary>One batched read of day-state items (kept in the days' views, null when not there) and of contribution items not read yet.</summary>
    private async Task ReadAsync(IReadOnlyCollection<(DateOnly Day, string Part)> states, IEnumerable<string> contributionParts,
        Dictionary<DateOnly, FoldView> views, BatchContributions contributions, CancellationToken cancellationToken)
    {
        var parts = contributionParts.Where(contributions.Lacks).Distinct().ToList();
        var keys = states.Select(s => (Table, KpiItems.DayKey(s.Day, s.Part))).Concat(parts.Select(contributions.KeyOf)).ToList();
        if (keys.Count == 0)
        {
            return;
        }
        var found = await dynamoDb.GetManyAsync(keys, _ => null, cancellationToken).ConfigureAwait(false);
        contributions.Keep(parts, found.Where(f => f.Table == contributions.Table).Select(f => f.Item));
        var stateItems = found.Where(f => f.Table == Table)
            .ToDictionary(f => (KpiItems.Date(f.Item[KpiItems.OrderDate]), f.Item[KpiItems.Part].S), f => f.Item);
        foreach (var state in states)
        {
            views[state.Day].Items[state.Part] = stateItems.GetValueOrDefault(state);
        }
    }

    /// <summary>
    /// Brings the batch's slot item of the day to the target, going down to the child slot when the item is (or becomes,
    /// by another fold or by this one) full without holding the batch. The slot and its item as they now stand.
    /// </summary>
    private async Task<(string Slot, Dictionary<string, AttributeValue>? Item)> FoldSlotAsync(string batchId, DateOnly day, SortedSet<long> visited,
        FoldView view, BatchContributions contributions, CancellationToken cancellationToken)
    {
        var slot = view.Slot;
        var state = view.SlotItem;
        while (true)
        {
            var key = KpiItems.DayKey(day, KpiItems.SlotPart(slot));
            var item = await FoldItemAsync(key, state,
                (current, token) => RefoldSlotAsync(batchId, contributions.Target, day, visited, current, contributions, token), cancellationToken)
                .ConfigureAwait(false);
            view.Items[KpiItems.SlotPart(slot)] = item;
            if (Passes(item, batchId) is not { } fanout)
            {
                return (slot, item);
            }
            slot = KpiItems.ChildSlot(slot, batchId, fanout);
            state = view.Items.TryGetValue(KpiItems.SlotPart(slot), out var read)
                ? read
                : await dynamoDb.GetItemOrNullAsync(Table, KpiItems.DayKey(day, KpiItems.SlotPart(slot)), cancellationToken).ConfigureAwait(false);
            view.Items[KpiItems.SlotPart(slot)] = state;
        }
    }

    /// <summary>
    /// The slot item with the batch at <paramref name="target"/>: its sums and counts, and the counts of its own page, with
    /// the version folded in taken out and the target put in. A slot without a page of its own takes the batch's first page
    /// not listed yet as its own; every other page of the batch's is listed. A slot that does not hold the batch yet and
    /// whose bookkeeping would pass the limit with it becomes full instead (it keeps all it has and takes no new batch).
    /// Null when nothing changes, the batch's slot being another.
    /// </summary>
    private async Task<Dictionary<string, AttributeValue>?> RefoldSlotAsync(string batchId, int target, DateOnly day, SortedSet<long> visited,
        Dictionary<string, AttributeValue>? state, BatchContributions contributions, CancellationToken cancellationToken)
    {
        var applied = KpiItems.ReadApplied(state);
        var current = applied.GetValueOrDefault(batchId);
        if (current == 0 && state is not null)
        {
            if (KpiItems.FanoutOf(state) > 0)
            {
                return null;
            }
            if (Bookkeeping(state) + DynamoItemSize.Of(new Dictionary<string, AttributeValue> { [batchId] = KpiItems.Number(target) })
                > limits.SlotBookkeepingBytes)
            {
                return new Dictionary<string, AttributeValue>(state) { [KpiItems.Fanout] = KpiItems.Number(limits.Fanout) };
            }
        }
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
        if (state?.GetValueOrDefault(KpiItems.Fanout) is { } fanout)
        {
            item[KpiItems.Fanout] = fanout;
        }
        return item;
    }

    /// <summary>What a slot item spends on knowing its batches: the versions it holds and its list of customer pages.</summary>
    private static long Bookkeeping(Dictionary<string, AttributeValue> slotItem) =>
        (slotItem.TryGetValue(KpiItems.Applied, out var applied) ? DynamoItemSize.Of(applied) : 0)
        + (slotItem.TryGetValue(KpiItems.Pages, out var pages) ? DynamoItemSize.Of(pages) : 0);

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

    /// <summary>What one fold knows of a day: the state items read so far, by part, and the slot the batch is in.</summary>
    private sealed class FoldView
    {
        public Dictionary<string, Dictionary<string, AttributeValue>?> Items { get; } = new(StringComparer.Ordinal);

        public string Slot { get; set; } = "";

        public Dictionary<string, AttributeValue>? SlotItem => Items.GetValueOrDefault(KpiItems.SlotPart(Slot));
    }
}
