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
    /// <summary>The state attributes the KPI rows are computed from: everything but the customer counts themselves, which can be large.</summary>
    private static readonly DynamoProjection RowInputs = DynamoProjection.Of([
        KpiItems.OrderDate, KpiItems.Part, KpiItems.Version, KpiItems.DistinctCustomers, KpiItems.Pages,
        KpiItems.Orders, KpiItems.ItemsSold, KpiItems.ReturnedOrders, KpiItems.Categories]);

    private string OrderKpis => topology.OrderKpisTable.Name;

    private string CategoryKpis => topology.CategoryKpisTable.Name;

    private string DayStates => topology.KpiDaysTable.Name;

    /// <summary>Writes the rows of the days from their states as the fold left them; how many order and category rows have data.</summary>
    public async Task<(int OrderRows, int CategoryRows)> WriteAsync(IReadOnlyList<DayState> folded, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<DateOnly, DayRows>();
        var states = await WithListedPagesAsync(folded, cancellationToken).ConfigureAwait(false);
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

    /// <summary>The days' states as they are now (the row inputs only), strongly consistent.</summary>
    private async Task<List<DayState>> ReadAsync(IEnumerable<DateOnly> days, CancellationToken cancellationToken)
    {
        var dayList = days.ToList();
        var items = (await dynamoDb.GetManyAsync(dayList.Select(d => (DayStates, KpiItems.DayKey(d, KpiItems.TotalsPart))), _ => RowInputs, cancellationToken)
            .ConfigureAwait(false)).ToDictionary(i => KpiItems.Date(i.Item[KpiItems.OrderDate]), i => i.Item);
        var empty = new Dictionary<long, Dictionary<string, AttributeValue>?>();
        return await WithListedPagesAsync(dayList.Select(d => new DayState(d, items.GetValueOrDefault(d), empty)).ToList(), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>The states with every page their day item lists (those not read yet are read here).</summary>
    private async Task<List<DayState>> WithListedPagesAsync(IReadOnlyList<DayState> states, CancellationToken cancellationToken)
    {
        var unread = states.SelectMany(s => s.Unread.Select(p => (s.Day, Page: p))).ToList();
        if (unread.Count == 0)
        {
            return [.. states];
        }
        var found = (await dynamoDb.GetManyAsync(unread.Select(u => (DayStates, KpiItems.DayKey(u.Day, KpiItems.CustomerCountsPart(u.Page)))), _ => RowInputs,
                cancellationToken).ConfigureAwait(false))
            .ToDictionary(i => (KpiItems.Date(i.Item[KpiItems.OrderDate]), KpiItems.PageOfCountsPart(i.Item[KpiItems.Part].S)), i => i.Item);
        return states.Select(s => s with
        {
            Pages = new Dictionary<long, Dictionary<string, AttributeValue>?>(s.Pages.Concat(
                s.Unread.Select(p => KeyValuePair.Create(p, found.GetValueOrDefault((s.Day, p)))))),
        }).ToList();
    }

    /// <summary>The day's rows, computed with the engine's definitions; rows of categories that no longer have items are marked removed.</summary>
    private DayRows Rows(DayState state, DateTimeOffset now)
    {
        var versions = state.Versions;
        var stateVersion = versions.Sum();
        var totals = KpiItems.ReadTotals(state.Item);
        var (orderRow, categoryRows) = totals.Rows(state.Day, state.UniqueCustomers);
        var items = new List<(string Table, Dictionary<string, AttributeValue> Item)>
        {
            orderRow is null
                ? (OrderKpis, KpiItems.RemovedRow(new() { [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(state.Day)) }, stateVersion, now))
                : (OrderKpis, KpiItems.OrderRow(orderRow, stateVersion, now)),
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
