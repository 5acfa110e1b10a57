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
/// summary last. (2) Folding brings each day's state — a day item (the day's sums and counts, and the customer counts of
/// one page) and an item for each other customer page, each naming the version of every batch folded into it — to the
/// batch's newest written version: what it needs is read in a few batched reads, then one conditional write per item
/// takes the old version's contribution out and puts the new one in (<see cref="DayStateFolder"/>); a day whose item fills
/// up with batches hands new ones to child slot items (<see cref="KpiStateLimits"/>). (3) The days' KPI
/// rows are computed from their state items, written in batches, and written again for any day whose state a read after
/// the write finds changed (<see cref="KpiRowWriter"/>). A fold costs the same however many batches a day has, up to
/// about a thousand (one slot; past that, the rows read the day's slots). See
/// docs/kpi-storage.md for why this stays exact. The rows are read with <see cref="KpiQueries"/>.
/// </summary>
/// <param name="limits">How full a day's slot item gets before new batches go to child slots (<see cref="KpiStateLimits.Default"/> unless given).</param>
public sealed class DynamoKpiStore(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock, KpiStateLimits? limits = null)
{
    private readonly DayStateFolder _states = new(dynamoDb, topology, limits ?? KpiStateLimits.Default, clock);
    private readonly KpiRowWriter _rows = new(dynamoDb, topology, clock);
    private readonly DayLocks _days = new();

    private string Contributions => topology.KpiContributionsTable.Name;

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

        await dynamoDb.PutManyAsync(items.Select(i => (Contributions, i)), cancellationToken).ConfigureAwait(false);
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
        var summaries = await SummariesAsync(batchId, cancellationToken).ConfigureAwait(false);
        if (summaries.Count == 0)
        {
            return null;
        }

        var contributions = new BatchContributions(dynamoDb, Contributions, batchId, summaries);
        // This store's other folds of the same days wait: in one process they would only race each other.
        using var days = await _days.AcquireAsync(contributions.PagesByDay.Keys, cancellationToken).ConfigureAwait(false);
        var states = await _states.FoldAsync(batchId, contributions, cancellationToken).ConfigureAwait(false);
        var (orderRows, categoryRows) = await _rows.WriteAsync(states, cancellationToken).ConfigureAwait(false);
        return new KpiFold(contributions.Target, contributions.PagesByDay.Keys.Order().ToList(), orderRows, categoryRows);
    }

    /// <summary>
    /// Every day any written version of the batch touches, as their summaries name them: wherever the batch may have data
    /// (none for a batch never written). One query of the batch's summaries, however many days.
    /// </summary>
    public async Task<IReadOnlyList<DateOnly>> DaysTouchedAsync(string batchId, CancellationToken cancellationToken) =>
        (await SummariesAsync(batchId, cancellationToken).ConfigureAwait(false))
            .SelectMany(s => KpiItems.DaysOfSummary(s) ?? []).Distinct().Order().ToList();

    /// <summary>
    /// Writes the KPI rows of <paramref name="days"/> again from the days' state items, as the last step of a fold does
    /// (<see cref="KpiRowWriter"/>): rows changed or deleted outside the pipeline are restored, category rows added outside it
    /// are marked removed, and a fold running meanwhile still ends with rows of the final state (docs/kpi-storage.md, "Why
    /// this stays exact"). Changes no state item.
    /// </summary>
    public async Task<(int OrderRows, int CategoryRows, int StrayRows)> RewriteRowsAsync(
        IReadOnlyCollection<DateOnly> days, CancellationToken cancellationToken)
    {
        using var locked = await _days.AcquireAsync(days, cancellationToken).ConfigureAwait(false);
        var rows = (0, 0, 0);
        // A read of 100 days a request, a few hundred days at a time: a year is a few rounds.
        foreach (var chunk in days.Order().Chunk(400))
        {
            var (orders, categories, stray) = await _rows.RewriteAsync(chunk, cancellationToken).ConfigureAwait(false);
            rows = (rows.Item1 + orders, rows.Item2 + categories, rows.Item3 + stray);
        }
        return rows;
    }

    /// <summary>The summary items of the batch's written versions (consistent: a summary just written is seen).</summary>
    private Task<List<Dictionary<string, AttributeValue>>> SummariesAsync(string batchId, CancellationToken cancellationToken) =>
        dynamoDb.QueryAllAsync(new QueryRequest
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
        }, cancellationToken);

    private async Task PutSummaryAsync(string batchId, int version, Dictionary<string, AttributeValue> days, bool retraction, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var summary = KpiItems.ContributionKey(batchId, KpiItems.SummaryPart(version));
        summary[KpiItems.SummaryDays] = new AttributeValue { M = days, IsMSet = true };
        summary[KpiItems.Retraction] = new AttributeValue { BOOL = retraction };
        summary[KpiItems.UpdatedAt] = KpiItems.Timestamp(now);
        await dynamoDb.PutItemAsync(new PutItemRequest { TableName = Contributions, Item = summary }, cancellationToken).ConfigureAwait(false);
    }
}
