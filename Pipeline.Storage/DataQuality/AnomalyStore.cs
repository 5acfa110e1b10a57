using System.Collections.Concurrent;
using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.DataQuality;
using Pipeline.Storage.Kpis;
using Pipeline.Topology;

namespace Pipeline.Storage.DataQuality;

/// <summary>
/// Runs the anomaly rule (<see cref="AnomalyRule"/>) on the days a fold touched and keeps its findings in the
/// data-quality table (partition <c>anomaly</c>, an item per figure that was ever anomalous, subject
/// <c>2025-03-31#total_orders</c>). Every figure of a day is on its order KPI row (the categories' revenue in a map the
/// fold writes with the row), so one BatchGetItem reads the days and their baselines. A figure found anomalous is
/// opened by the batch version being checked, one found normal again (or without a value) is cleared. Safe with several
/// checkers at once: each verdict is stamped with the KPI state versions it was made on, an item is only replaced by a
/// verdict on a later state, and a checker that wrote reads the stamps again and judges a day again if its data moved
/// meanwhile (as the fold's row writer does).
/// </summary>
public sealed class AnomalyStore(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
{
    public const string Check = "anomaly";

    private const string CheckAttribute = "check";
    private const string Subject = "subject";
    private const string Status = "status";
    private const string OpenStatus = "open";
    private const string ClearedStatus = "cleared";

    private static readonly DynamoProjection RowsWithStamps =
        DynamoProjection.Of([.. KpiItems.OrderRowAttributes, KpiItems.CategoryRevenue, KpiItems.Removed, KpiItems.StateVersion]);

    private static readonly DynamoProjection StampsOnly = DynamoProjection.Of([KpiItems.OrderDate, KpiItems.StateVersion]);

    private string Table => topology.DataQualityTable.Name;

    /// <summary>
    /// Judges every figure of <paramref name="days"/> and records what changed; the anomalies that <paramref name="batchId"/>
    /// v<paramref name="version"/> opened, to be alerted (again after a repeated delivery: the alert's id makes it one).
    /// </summary>
    public async Task<IReadOnlyList<AnomalyState>> CheckAsync(IReadOnlyCollection<DateOnly> days, string batchId, int version, AnomalyOptions options,
        CancellationToken cancellationToken)
    {
        if (days.Count == 0)
        {
            return [];
        }
        var opened = new ConcurrentDictionary<string, AnomalyState>();
        var pending = days.Distinct().Order().ToList();
        for (var round = 0; pending.Count > 0; round++)
        {
            if (round == RetryBudgets.KpiStateRaces)
            {
                throw new InvalidOperationException(
                    $"The KPIs of {pending.Count} days kept changing under {round} anomaly checks; the delivery will be retried.");
            }
            // The findings and the rows at once: one round trip of two requests (for up to 100 days with their baselines).
            var reading = (States: ReadStatesAsync(pending.Min(), pending.Max(), cancellationToken),
                History: ReadHistoryAsync(pending, options, cancellationToken));
            var states = (await reading.States.ConfigureAwait(false)).Where(s => pending.Contains(s.Key.Day)).ToList();
            var (history, stamps) = await reading.History.ConfigureAwait(false);
            var written = new ConcurrentBag<DateOnly>();
            var now = clock.GetUtcNow();
            await Parallel.ForEachAsync(pending, RequestConcurrency.Options(cancellationToken), async (day, ct) =>
            {
                var verdicts = AnomalyRule.Check(day, history, options).ToDictionary(v => v.Key.Subject, StringComparer.Ordinal);
                var dayStates = states.Where(s => s.Key.Day == day).ToDictionary(s => s.Key.Subject, StringComparer.Ordinal);
                foreach (var subject in verdicts.Keys.Union(dayStates.Keys).Order(StringComparer.Ordinal))
                {
                    var state = dayStates.GetValueOrDefault(subject);
                    // Later rounds judge days whose data another fold changed: that fold's own check opens what it made anomalous.
                    var next = Next(state, verdicts.GetValueOrDefault(subject), stamps[day], batchId, version, now, mayOpen: round == 0);
                    if (next is not null && await TryPutAsync(next, ct).ConfigureAwait(false))
                    {
                        written.Add(day);
                        state = next;
                    }
                    if (state is { Open: true } && state.BatchId == batchId && state.Version == version)
                    {
                        opened[subject] = state;
                    }
                    else
                    {
                        opened.TryRemove(subject, out _); // opened in an earlier round, and cleared since: nothing to alert
                    }
                }
            }).ConfigureAwait(false);
            // Whoever wrote looks again: a day whose data moved since it was read is judged again on what it is now.
            var writtenDays = written.Distinct().ToList();
            var current = writtenDays.Count == 0 ? [] : await ReadStampsAsync(writtenDays, options, cancellationToken).ConfigureAwait(false);
            pending = writtenDays.Where(d => current[d] != stamps[d]).Order().ToList();
        }
        return opened.Values.OrderBy(s => s.Key.Subject, StringComparer.Ordinal).ToList();
    }

    /// <summary>The anomalies open now, by day and figure, optionally only those of days in [from, to].</summary>
    public async Task<IReadOnlyList<AnomalyState>> ListOpenAsync(DateOnly? from, DateOnly? to, CancellationToken cancellationToken) =>
        (await ReadStatesAsync(from ?? DateOnly.MinValue, to ?? DateOnly.MaxValue, cancellationToken).ConfigureAwait(false)).Where(s => s.Open).ToList();

    /// <summary>
    /// What the figure's item becomes, or null when it stays as it is: a verdict no later than the one stored changes
    /// nothing; an anomaly is opened (when <paramref name="mayOpen"/>) or, while open, brought up to date; an open one that
    /// is normal again, has no verdict or no value any more is cleared.
    /// </summary>
    private static AnomalyState? Next(AnomalyState? state, FigureVerdict? verdict, long stamp, string batchId, int version, DateTimeOffset now, bool mayOpen)
    {
        if (state is not null && state.Stamp >= stamp)
        {
            return null;
        }
        var anomalous = verdict is { Kind: VerdictKind.Anomalous };
        return (state, anomalous) switch
        {
            // Still open, and judged the same: nothing to write (a checker that wrote looks again, so the stamp need not move).
            ({ Open: true }, true) when (state.Value, state.Baseline, state.Spread, state.Deviation, state.History)
                == (verdict!.Value, verdict.Baseline, verdict.Spread, verdict.Deviation, verdict.History) => null,
            ({ Open: true }, true) => state with
            {
                Value = verdict!.Value,
                Baseline = verdict.Baseline!.Value,
                Spread = verdict.Spread!.Value,
                Deviation = verdict.Deviation!.Value,
                History = verdict.History,
                UpdatedAt = now,
                Stamp = stamp,
            },
            ({ Open: true }, false) => state with
            {
                Open = false,
                Value = verdict?.Value ?? 0,
                Baseline = verdict?.Baseline ?? state.Baseline,
                UpdatedAt = now,
                Stamp = stamp,
                ClearedBy = $"{batchId} v{version.ToString(CultureInfo.InvariantCulture)}",
            },
            (_, true) when mayOpen => new AnomalyState(verdict!.Key, true, verdict.Value, verdict.Baseline!.Value, verdict.Spread!.Value,
                verdict.Deviation!.Value, verdict.History, batchId, version, now, now, stamp),
            _ => null,
        };
    }

    /// <summary>Writes the item unless a verdict on the same or a later state is there already.</summary>
    private async Task<bool> TryPutAsync(AnomalyState state, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.PutItemAsync(new PutItemRequest
            {
                TableName = Table,
                Item = ToItem(state),
                ConditionExpression = "attribute_not_exists(#subject) OR stamp < :stamp",
                ExpressionAttributeNames = new() { ["#subject"] = Subject },
                ExpressionAttributeValues = new() { [":stamp"] = KpiItems.Number(state.Stamp) },
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    /// <summary>
    /// The order rows of the days and of their baseline days, with their categories' revenue (one BatchGetItem per 100
    /// days), and each day's stamp.
    /// </summary>
    private async Task<(KpiHistory History, Dictionary<DateOnly, long> Stamps)> ReadHistoryAsync(IReadOnlyList<DateOnly> days, AnomalyOptions options,
        CancellationToken cancellationToken)
    {
        var keys = AllDays(days, options).Select(d => (topology.OrderKpisTable.Name, DayKey(d)));
        var items = (await dynamoDb.GetManyAsync(keys, _ => RowsWithStamps, cancellationToken).ConfigureAwait(false)).Select(i => i.Item).ToList();
        var rows = items.Where(i => !KpiItems.IsRemoved(i)).ToList();
        var history = new KpiHistory(
            rows.Select(KpiItems.ReadOrderRow).ToDictionary(r => r.OrderDate),
            rows.SelectMany(i => KpiItems.ReadCategoryRevenue(i).Select(c => (Key: (c.Category, KpiItems.Date(i[KpiItems.OrderDate])), c.DailyRevenue)))
                .ToDictionary(c => c.Key, c => c.DailyRevenue));
        return (history, Stamps(days, items, options));
    }

    private async Task<Dictionary<DateOnly, long>> ReadStampsAsync(IReadOnlyList<DateOnly> days, AnomalyOptions options, CancellationToken cancellationToken)
    {
        var keys = AllDays(days, options).Select(d => (topology.OrderKpisTable.Name, DayKey(d)));
        var items = await dynamoDb.GetManyAsync(keys, _ => StampsOnly, cancellationToken).ConfigureAwait(false);
        return Stamps(days, items.Select(i => i.Item), options);
    }

    /// <summary>Each day's stamp: the state versions of its row and of its baseline days' rows, added (removed rows count too).</summary>
    private static Dictionary<DateOnly, long> Stamps(IEnumerable<DateOnly> days, IEnumerable<Dictionary<string, AttributeValue>> orderItems,
        AnomalyOptions options)
    {
        var versions = orderItems.ToDictionary(i => KpiItems.Date(i[KpiItems.OrderDate]), i => KpiItems.Long(i, KpiItems.StateVersion));
        return days.ToDictionary(d => d, d => AnomalyRule.BaselineDays(d, options).Append(d).Sum(versions.GetValueOrDefault));
    }

    private static List<DateOnly> AllDays(IEnumerable<DateOnly> days, AnomalyOptions options) =>
        days.SelectMany(d => AnomalyRule.BaselineDays(d, options).Append(d)).Distinct().ToList();

    /// <summary>The stored findings of the days in [from, to]: one Query of the check's partition over that range of subjects.</summary>
    private async Task<List<AnomalyState>> ReadStatesAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var items = await dynamoDb.QueryAllAsync(new QueryRequest
        {
            TableName = Table,
            ConsistentRead = true,
            KeyConditionExpression = "#check = :check AND #subject BETWEEN :from AND :to",
            ExpressionAttributeNames = new() { ["#check"] = CheckAttribute, ["#subject"] = Subject },
            ExpressionAttributeValues = new()
            {
                [":check"] = new AttributeValue(Check),
                [":from"] = new AttributeValue(FigureKey.DayText(from)),
                [":to"] = new AttributeValue(FigureKey.DayText(to) + "#\uffff"),
            },
        }, cancellationToken).ConfigureAwait(false);
        return items.Select(FromItem).ToList();
    }

    private static Dictionary<string, AttributeValue> DayKey(DateOnly day) => new() { [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(day)) };

    private static Dictionary<string, AttributeValue> ToItem(AnomalyState state)
    {
        var item = new Dictionary<string, AttributeValue>
        {
            [CheckAttribute] = new(Check),
            [Subject] = new(state.Key.Subject),
            [Status] = new(state.Open ? OpenStatus : ClearedStatus),
            ["value"] = KpiItems.Number(state.Value),
            ["baseline"] = KpiItems.Number(state.Baseline),
            ["spread"] = KpiItems.Number(state.Spread),
            ["deviation"] = KpiItems.Number(state.Deviation),
            ["history"] = KpiItems.Number(state.History),
            ["batch_id"] = new(state.BatchId),
            ["version"] = KpiItems.Number(state.Version),
            ["opened_at"] = KpiItems.Timestamp(state.OpenedAt),
            ["updated_at"] = KpiItems.Timestamp(state.UpdatedAt),
            ["stamp"] = KpiItems.Number(state.Stamp),
        };
        if (state.ClearedBy is { } clearedBy)
        {
            item["cleared_by"] = new(clearedBy);
        }
        return item;
    }

    private static AnomalyState FromItem(Dictionary<string, AttributeValue> item) => new(
        FigureKey.FromSubject(item[Subject].S),
        item[Status].S == OpenStatus,
        KpiItems.Double(item, "value"),
        KpiItems.Double(item, "baseline"),
        KpiItems.Double(item, "spread"),
        KpiItems.Double(item, "deviation"),
        (int)KpiItems.Long(item, "history"),
        item["batch_id"].S,
        (int)KpiItems.Long(item, "version"),
        DateTimeOffset.Parse(item["opened_at"].S, CultureInfo.InvariantCulture),
        DateTimeOffset.Parse(item["updated_at"].S, CultureInfo.InvariantCulture),
        KpiItems.Long(item, "stamp"),
        item.TryGetValue("cleared_by", out var clearedBy) ? clearedBy.S : null);
}
