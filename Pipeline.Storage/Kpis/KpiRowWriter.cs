using System.Collections.Concurrent;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Topology;

namespace Pipeline.Storage.Kpis;

/// <summary>
/// The last step of a fold: each day's KPI rows computed from its state items and written with BatchWriteItem, then the
/// states read again; a day whose state changed since its rows were computed has them computed from the state just read
/// and written again, until a read finds the state the day's rows were computed from. The fold that changes a day's state
/// last computes its rows after that change, and every fold checks after its writes, so the last rows written are the
/// final state's (docs/kpi-storage.md).
/// </summary>
internal sealed class KpiRowWriter(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
{
    /// <summary>
    /// The state attributes the KPI rows of a day with one slot are computed from: everything but the customer counts
    /// themselves, which can be large, and the versions of the batches (<c>applied</c>), which the rows do not need.
    /// </summary>
    private static readonly string[] RowInputNames = [
        KpiItems.OrderDate, KpiItems.Part, KpiItems.Version, KpiItems.DistinctCustomers, KpiItems.Page, KpiItems.Pages, KpiItems.Fanout,
        KpiItems.Orders, KpiItems.ItemsSold, KpiItems.ReturnedOrders, KpiItems.Categories];

    private static readonly DynamoProjection RowInputs = DynamoProjection.Of(RowInputNames);

    /// <summary>On a day split into slots, the customer counts too: a page that several slots hold counts the customers any of them has.</summary>
    private static readonly DynamoProjection RowInputsWithCounts = DynamoProjection.Of([.. RowInputNames, KpiItems.Counts]);

    private string OrderKpis => topology.OrderKpisTable.Name;

    private string CategoryKpis => topology.CategoryKpisTable.Name;

    private string DayStates => topology.KpiDaysTable.Name;

    /// <summary>Writes the rows of the days from their states as the fold left them; how many order and category rows have data.</summary>
    public async Task<(int OrderRows, int CategoryRows)> WriteAsync(IReadOnlyList<DayState> folded, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<DateOnly, DayRows>();
        var states = await WithUnreadAsync(folded, cancellationToken).ConfigureAwait(false);
        for (var round = 0; states.Count > 0; round++)
        {
            if (round == RetryBudgets.KpiStateRaces)
            {
                throw new InvalidOperationException(
                    $"The KPI state of {states.Count} days kept changing under {RetryBudgets.KpiStateRaces} row writes; the delivery will be retried.");
            }
            var now = clock.GetUtcNow();
            foreach (var state in states)
            {
                rows[state.Day] = Rows(state, now);
            }
            await dynamoDb.PutManyAsync(states.SelectMany(s => rows[s.Day].Items), cancellationToken).ConfigureAwait(false);

            // After the write: a state that changed since is read here, and its rows are written again.
            var again = await ReadAsync(states.Select(s => s.Day), cancellationToken).ConfigureAwait(false);
            states = again.Where(s => !s.Versions.SequenceEqual(rows[s.Day].From)).ToList();
        }
        return (rows.Values.Count(r => r.HasOrderRow), rows.Values.Sum(r => r.CategoryRows));
    }

    /// <summary>
    /// Writes the rows of <paramref name="days"/> from their states as they are now, by the same write-then-read-back rounds
    /// as a fold's last step, then marks removed the category rows no state names: what <c>pipeline rebuild</c> does to
    /// rows that were changed, lost or added outside the pipeline.
    /// </summary>
    public async Task<(int OrderRows, int CategoryRows, int StrayRows)> RewriteAsync(IReadOnlyList<DateOnly> days, CancellationToken cancellationToken)
    {
        var states = await ReadAsync(days, cancellationToken).ConfigureAwait(false);
        var (orderRows, categoryRows) = await WriteAsync(states, cancellationToken).ConfigureAwait(false);
        return (orderRows, categoryRows, await RemoveStrayCategoryRowsAsync(days, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Marks removed the category rows of <paramref name="days"/> whose category the day's state does not have (written
    /// outside the pipeline: a fold writes or removes only the categories its state names); how many. The state is read
    /// after the rows, so a row a fold wrote has its category in it; each removal holds only while the row is as read, so
    /// a fold that writes the row meanwhile wins.
    /// </summary>
    private async Task<int> RemoveStrayCategoryRowsAsync(IReadOnlyList<DateOnly> days, CancellationToken cancellationToken)
    {
        var rows = new ConcurrentBag<Dictionary<string, AttributeValue>>();
        await Parallel.ForEachAsync(days, RequestConcurrency.Options(cancellationToken), async (day, ct) =>
        {
            foreach (var row in await KpiQueries.CategoryItemsOnDayAsync(dynamoDb, topology, day, ct).ConfigureAwait(false))
            {
                rows.Add(row);
            }
        }).ConfigureAwait(false);
        if (rows.IsEmpty)
        {
            return 0;
        }
        var states = (await ReadAsync(rows.Select(r => KpiItems.Date(r[KpiItems.OrderDate])).Distinct().ToList(), cancellationToken).ConfigureAwait(false))
            .ToDictionary(s => s.Day);
        var stray = rows.Where(r => !states[KpiItems.Date(r[KpiItems.OrderDate])].Totals.Categories.ContainsKey(r[KpiItems.Category].S)).ToList();
        var removed = 0;
        await Parallel.ForEachAsync(stray, RequestConcurrency.Options(cancellationToken), async (row, ct) =>
        {
            var day = KpiItems.Date(row[KpiItems.OrderDate]);
            var key = new Dictionary<string, AttributeValue> { [KpiItems.Category] = row[KpiItems.Category], [KpiItems.OrderDate] = row[KpiItems.OrderDate] };
            var seen = row.GetValueOrDefault(KpiItems.StateVersion);
            try
            {
                await dynamoDb.PutItemAsync(new PutItemRequest
                {
                    TableName = CategoryKpis,
                    Item = KpiItems.RemovedRow(key, states[day].Versions.Sum(), clock.GetUtcNow()),
                    ConditionExpression = seen is null ? "attribute_not_exists(#version)" : "#version = :seen",
                    ExpressionAttributeNames = new() { ["#version"] = KpiItems.StateVersion },
                    ExpressionAttributeValues = seen is null ? null : new() { [":seen"] = seen },
                }, ct).ConfigureAwait(false);
                Interlocked.Increment(ref removed);
            }
            catch (ConditionalCheckFailedException)
            {
                // A fold wrote the row since it was read: the row is the fold's now.
            }
        }).ConfigureAwait(false);
        return removed;
    }

    /// <summary>The days' states as they are now, strongly consistent: the row inputs of the root slots, then whatever they name.</summary>
    private async Task<List<DayState>> ReadAsync(IEnumerable<DateOnly> days, CancellationToken cancellationToken)
    {
        var dayList = days.ToList();
        var roots = (await dynamoDb.GetManyAsync(dayList.Select(d => (DayStates, KpiItems.DayKey(d, KpiItems.TotalsPart))), _ => RowInputs, cancellationToken)
            .ConfigureAwait(false)).ToDictionary(i => KpiItems.Date(i.Item[KpiItems.OrderDate]), i => i.Item);
        // A day split into slots is read again with the customer counts, from its root on.
        var states = dayList.Select(d => new DayState(d, new Dictionary<string, Dictionary<string, AttributeValue>?>(StringComparer.Ordinal)
        {
            [KpiItems.TotalsPart] = roots.GetValueOrDefault(d),
        }))
            .Select(s => s.Split ? s with { Items = new Dictionary<string, Dictionary<string, AttributeValue>?>() } : s)
            .ToList();
        return await WithUnreadAsync(states, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The states with every item they name (slots, listed pages) read, a round per depth of slots: the row inputs on a day
    /// with one slot, with the customer counts on a day split into slots (and on one whose root is not read yet).
    /// </summary>
    private async Task<List<DayState>> WithUnreadAsync(IReadOnlyList<DayState> states, CancellationToken cancellationToken)
    {
        var current = states.ToList();
        while (current.SelectMany(s => s.Unread.Select(part => (State: s, Part: part))).ToList() is { Count: > 0 } unread)
        {
            var counted = unread.Where(u => u.State.Split || !u.State.Items.ContainsKey(KpiItems.TotalsPart)).ToList();
            var found = (await Task.WhenAll(
                    ReadItemsAsync(unread.Except(counted), RowInputs, cancellationToken), ReadItemsAsync(counted, RowInputsWithCounts, cancellationToken))
                .ConfigureAwait(false)).SelectMany(f => f).ToDictionary(f => f.Key, f => f.Value);
            var byDay = unread.ToLookup(u => u.State.Day, u => u.Part);
            current = current.Select(s => byDay[s.Day].Any()
                ? s with
                {
                    Items = new Dictionary<string, Dictionary<string, AttributeValue>?>(s.Items.Concat(
                        byDay[s.Day].Select(part => KeyValuePair.Create(part, found.GetValueOrDefault((s.Day, part))))), StringComparer.Ordinal),
                }
                : s).ToList();
        }
        return current;
    }

    private async Task<Dictionary<(DateOnly Day, string Part), Dictionary<string, AttributeValue>>> ReadItemsAsync(
        IEnumerable<(DayState State, string Part)> unread, DynamoProjection? projection, CancellationToken cancellationToken)
    {
        var keys = unread.Select(u => (DayStates, KpiItems.DayKey(u.State.Day, u.Part))).ToList();
        return keys.Count == 0
            ? []
            : (await dynamoDb.GetManyAsync(keys, _ => projection, cancellationToken).ConfigureAwait(false))
                .ToDictionary(i => (KpiItems.Date(i.Item[KpiItems.OrderDate]), i.Item[KpiItems.Part].S), i => i.Item);
    }

    /// <summary>The day's rows, computed with the engine's definitions; rows of categories that no longer have items are marked removed.</summary>
    private DayRows Rows(DayState state, DateTimeOffset now)
    {
        var versions = state.Versions;
        var stateVersion = versions.Sum();
        var totals = state.Totals;
        var (orderRow, categoryRows) = totals.Rows(state.Day, state.UniqueCustomers);
        var items = new List<(string Table, Dictionary<string, AttributeValue> Item)>
        {
            orderRow is null
                ? (OrderKpis, KpiItems.RemovedRow(new() { [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(state.Day)) }, stateVersion, now))
                : (OrderKpis, KpiItems.OrderRow(orderRow, categoryRows, stateVersion, now)),
        };
        items.AddRange(categoryRows.Select(row => (CategoryKpis, KpiItems.CategoryRow(row, stateVersion, now))));
        // Categories that had items on this day and have none now (a category stays in the day's sums once it was there).
        var date = new AttributeValue(KpiItems.Date(state.Day));
        items.AddRange(totals.Categories.Where(c => c.Value.Items == 0).Select(c => (CategoryKpis, KpiItems.RemovedRow(
            new() { [KpiItems.Category] = new AttributeValue(c.Key), [KpiItems.OrderDate] = date }, stateVersion, now))));
        return new DayRows(versions, items, orderRow is not null, categoryRows.Count);
    }

    /// <param name="From">The versions of the state the rows were computed from.</param>
    private sealed record DayRows(IReadOnlyList<long> From, IReadOnlyList<(string Table, Dictionary<string, AttributeValue> Item)> Items, bool HasOrderRow,
        int CategoryRows);
}
