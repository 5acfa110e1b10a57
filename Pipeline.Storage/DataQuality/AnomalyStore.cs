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
/// data-quality table (partition <c>anomaly</c>, an item per day that ever had an anomalous figure, subject
/// <c>2025-03-31</c>, its figures in one map). Every figure of a day is on its order KPI row (the categories' revenue in a
/// map the fold writes with the row), so one BatchGetItem reads the days and their baselines. A figure found anomalous is
/// opened by the batch version being checked, one found normal again (or without a value) is cleared; a day whose
/// findings change is one conditional write, the days at once. Safe with several checkers at once: each day's verdict is
/// stamped with the KPI state versions it was made on, a day item is only replaced by a verdict on a later state and only
/// as it was read (a lost race reads it again), and a checker that wrote reads the stamps again and judges a day again if
/// its data moved meanwhile (as the fold's row writer does).
/// </summary>
public sealed class AnomalyStore(IAmazonDynamoDB dynamoDb, PipelineTopology topology, TimeProvider clock)
{
    public const string Check = "anomaly";

    private const string StampAttribute = "stamp";
    private const string FiguresAttribute = "figures";
    private const string OpenStatus = "open";
    private const string ClearedStatus = "cleared";

    private static readonly DynamoProjection RowsWithStamps =
        DynamoProjection.Of([.. KpiItems.OrderRowAttributes, KpiItems.CategoryRevenue, KpiItems.Removed, KpiItems.StateVersion]);

    private static readonly DynamoProjection StampsOnly = DynamoProjection.Of([KpiItems.OrderDate, KpiItems.StateVersion]);

    private static readonly IReadOnlyDictionary<string, AnomalyState> NoFigures = new Dictionary<string, AnomalyState>();

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
            var reading = (Findings: ReadDaysAsync(pending.Min(), pending.Max(), cancellationToken),
                History: ReadHistoryAsync(pending, options, cancellationToken));
            var findings = (await reading.Findings.ConfigureAwait(false)).ToDictionary(d => d.Day);
            var (history, stamps) = await reading.History.ConfigureAwait(false);
            var written = new ConcurrentBag<DateOnly>();
            var now = clock.GetUtcNow();
            await Parallel.ForEachAsync(pending, RequestConcurrency.Options(cancellationToken), async (day, ct) =>
            {
                var verdicts = AnomalyRule.Check(day, history, options);
                // Later rounds judge days whose data another fold changed: that fold's own check opens what it made anomalous.
                var judgement = new Judgement(verdicts, stamps[day], batchId, version, now, MayOpen: round == 0);
                var (findingsNow, wrote) = await RecordAsync(day, findings.GetValueOrDefault(day), judgement, ct).ConfigureAwait(false);
                if (wrote)
                {
                    written.Add(day);
                }
                foreach (var (subject, state) in findingsNow?.Figures ?? NoFigures)
                {
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
            // Whoever wrote looks again: a day whose data moved since it was read is judged again on what it is now. (A checker
            // that found nothing to change wrote nothing, so no condition on the write can tell that it saw later data.)
            var writtenDays = written.ToList();
            var current = writtenDays.Count == 0 ? [] : await ReadStampsAsync(writtenDays, options, cancellationToken).ConfigureAwait(false);
            pending = writtenDays.Where(d => current[d] != stamps[d]).Order().ToList();
        }
        return opened.Values.OrderBy(s => s.Key.Subject, StringComparer.Ordinal).ToList();
    }

    /// <summary>The anomalies open now, by day and figure, optionally only those of days in [from, to].</summary>
    public async Task<IReadOnlyList<AnomalyState>> ListOpenAsync(DateOnly? from, DateOnly? to, CancellationToken cancellationToken) =>
        (await ReadDaysAsync(from ?? DateOnly.MinValue, to ?? DateOnly.MaxValue, cancellationToken).ConfigureAwait(false))
            .SelectMany(d => d.Figures.Values).Where(s => s.Open).OrderBy(s => s.Key.Subject, StringComparer.Ordinal).ToList();

    /// <summary>A day's findings, by subject (<c>2025-03-31#total_orders</c>), and the stamp of the verdict they are.</summary>
    private sealed record AnomalyDay(DateOnly Day, long Stamp, IReadOnlyDictionary<string, AnomalyState> Figures);

    /// <summary>What one check says of a day: the rule's verdicts on the day's data, stamped with its state versions.</summary>
    private sealed record Judgement(IReadOnlyList<FigureVerdict> Verdicts, long Stamp, string BatchId, int Version, DateTimeOffset Now, bool MayOpen);

    /// <summary>
    /// Writes the day's findings if the judgement changes them: one conditional PutItem on the item as it was read. A lost
    /// race reads the item again and applies the judgement to it, unless it is a verdict on the same or later data. The day's
    /// findings as they stand afterwards, and whether this check wrote them.
    /// </summary>
    private async Task<(AnomalyDay? Findings, bool Wrote)> RecordAsync(DateOnly day, AnomalyDay? stored, Judgement judgement,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (stored is not null && stored.Stamp >= judgement.Stamp || Next(day, stored, judgement) is not { } next)
            {
                return (stored, false);
            }
            if (await TryPutAsync(next, stored, cancellationToken).ConfigureAwait(false))
            {
                return (next, true);
            }
            if (attempt == RetryBudgets.KpiStateRaces)
            {
                throw new InvalidOperationException($"The anomaly findings of {FigureKey.DayText(day)} kept changing under {attempt} writes.");
            }
            // The check's Query for one day: its role has no GetItem on the table.
            stored = (await ReadDaysAsync(day, day, cancellationToken).ConfigureAwait(false)).SingleOrDefault();
        }
    }

    /// <summary>The day's findings after the judgement, or null when no figure changes.</summary>
    private static AnomalyDay? Next(DateOnly day, AnomalyDay? stored, Judgement judgement)
    {
        var figures = new Dictionary<string, AnomalyState>(stored?.Figures ?? NoFigures, StringComparer.Ordinal);
        var verdicts = judgement.Verdicts.ToDictionary(v => v.Key.Subject, StringComparer.Ordinal);
        var changed = false;
        foreach (var subject in verdicts.Keys.Union(figures.Keys, StringComparer.Ordinal).ToList())
        {
            if (Next(figures.GetValueOrDefault(subject), verdicts.GetValueOrDefault(subject), judgement) is { } next)
            {
                figures[subject] = next;
                changed = true;
            }
        }
        return changed ? new AnomalyDay(day, judgement.Stamp, figures) : null;
    }

    /// <summary>
    /// What the figure becomes, or null when it stays as it is: an anomaly is opened (when the judgement may open); an open
    /// one that is normal again, has no verdict or no value any more is cleared. One still anomalous keeps the figures it
    /// was opened with (what its alert said; the charts show the value now), so a fold that moves an open anomaly's value
    /// costs its check no write (docs/data-quality.md, "Cost").
    /// </summary>
    private static AnomalyState? Next(AnomalyState? state, FigureVerdict? verdict, Judgement judgement)
    {
        var anomalous = verdict is { Kind: VerdictKind.Anomalous };
        return (state, anomalous) switch
        {
            ({ Open: true }, true) => null,
            ({ Open: true }, false) => state with
            {
                Open = false,
                Value = verdict?.Value ?? 0,
                Baseline = verdict?.Baseline ?? state.Baseline,
                UpdatedAt = judgement.Now,
                ClearedBy = $"{judgement.BatchId} v{judgement.Version.ToString(CultureInfo.InvariantCulture)}",
            },
            (_, true) when judgement.MayOpen => new AnomalyState(verdict!.Key, true, verdict.Value, verdict.Baseline!.Value, verdict.Spread!.Value,
                verdict.Deviation!.Value, verdict.History, judgement.BatchId, judgement.Version, judgement.Now, judgement.Now),
            _ => null,
        };
    }

    /// <summary>Writes the day's item if it is still the one read (<paramref name="read"/>; none when null).</summary>
    private async Task<bool> TryPutAsync(AnomalyDay findings, AnomalyDay? read, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.PutItemAsync(new PutItemRequest
            {
                TableName = Table,
                Item = ToItem(findings),
                ConditionExpression = read is null ? "attribute_not_exists(#subject)" : "#stamp = :read",
                ExpressionAttributeNames = read is null ? new() { ["#subject"] = DataQualityItems.SubjectAttribute } : new() { ["#stamp"] = StampAttribute },
                ExpressionAttributeValues = read is null ? null : new() { [":read"] = KpiItems.Number(read.Stamp) },
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
        var keys = AllDays(days, options).Select(d => (topology.OrderKpisTable.Name, OrderRowKey(d)));
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
        var keys = AllDays(days, options).Select(d => (topology.OrderKpisTable.Name, OrderRowKey(d)));
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

    /// <summary>The stored findings of the days in [from, to]: one Query of the check's partition over that range of days.</summary>
    private async Task<List<AnomalyDay>> ReadDaysAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var items = await DataQualityItems.QueryDaysAsync(dynamoDb, Table, Check, from, to, cancellationToken).ConfigureAwait(false);
        return items.Select(FromItem).ToList();
    }

    private static Dictionary<string, AttributeValue> OrderRowKey(DateOnly day) => new() { [KpiItems.OrderDate] = new AttributeValue(KpiItems.Date(day)) };

    /// <summary>The day's item: its stamp, and each figure ever found anomalous under its name (<c>total_orders</c>, <c>daily_revenue#Books</c>).</summary>
    private static Dictionary<string, AttributeValue> ToItem(AnomalyDay findings) => new(DataQualityItems.Key(Check, findings.Day))
    {
        [StampAttribute] = KpiItems.Number(findings.Stamp),
        [FiguresAttribute] = new AttributeValue
        {
            M = findings.Figures.Values.ToDictionary(s => FigureName(s.Key), s => new AttributeValue { M = ToMap(s) }),
        },
    };

    private static Dictionary<string, AttributeValue> ToMap(AnomalyState state)
    {
        var map = new Dictionary<string, AttributeValue>
        {
            ["status"] = new(state.Open ? OpenStatus : ClearedStatus),
            ["value"] = KpiItems.Number(state.Value),
            ["baseline"] = KpiItems.Number(state.Baseline),
            ["spread"] = KpiItems.Number(state.Spread),
            ["deviation"] = KpiItems.Number(state.Deviation),
            ["history"] = KpiItems.Number(state.History),
            ["batch_id"] = new(state.BatchId),
            ["version"] = KpiItems.Number(state.Version),
            ["opened_at"] = KpiItems.Timestamp(state.OpenedAt),
            ["updated_at"] = KpiItems.Timestamp(state.UpdatedAt),
        };
        if (state.ClearedBy is { } clearedBy)
        {
            map["cleared_by"] = new(clearedBy);
        }
        return map;
    }

    private static AnomalyDay FromItem(Dictionary<string, AttributeValue> item)
    {
        var day = DataQualityItems.Day(item);
        var figures = item[FiguresAttribute].M.Select(f => FromMap(FigureKey.FromSubject($"{FigureKey.DayText(day)}#{f.Key}"), f.Value.M));
        return new AnomalyDay(day, KpiItems.Long(item, StampAttribute), figures.ToDictionary(s => s.Key.Subject, StringComparer.Ordinal));
    }

    private static AnomalyState FromMap(FigureKey key, Dictionary<string, AttributeValue> map) => new(
        key,
        map["status"].S == OpenStatus,
        KpiItems.Double(map, "value"),
        KpiItems.Double(map, "baseline"),
        KpiItems.Double(map, "spread"),
        KpiItems.Double(map, "deviation"),
        (int)KpiItems.Long(map, "history"),
        map["batch_id"].S,
        (int)KpiItems.Long(map, "version"),
        DateTimeOffset.Parse(map["opened_at"].S, CultureInfo.InvariantCulture),
        DateTimeOffset.Parse(map["updated_at"].S, CultureInfo.InvariantCulture),
        map.TryGetValue("cleared_by", out var clearedBy) ? clearedBy.S : null);

    /// <summary>The figure's name in its day's map: its subject without the day.</summary>
    private static string FigureName(FigureKey key) => key.Subject[(FigureKey.DayText(key.Day).Length + 1)..];
}
