using System.Globalization;
using Pipeline.Engine.Kpis;

namespace Pipeline.Engine.DataQuality;

/// <summary>The figures a day is checked on: four of the day's row, and each category's revenue.</summary>
public enum KpiFigure { TotalOrders, TotalRevenue, TotalItemsSold, ReturnRate, DailyRevenue }

/// <summary>One figure of one day (of one category, for <see cref="KpiFigure.DailyRevenue"/>).</summary>
public sealed record FigureKey(DateOnly Day, KpiFigure Figure, string? Category = null)
{
    /// <summary>The figure as the KPI tables name it: <c>total_orders</c>, <c>daily_revenue</c>.</summary>
    public string FigureName => Figure switch
    {
        KpiFigure.TotalOrders => "total_orders",
        KpiFigure.TotalRevenue => "total_revenue",
        KpiFigure.TotalItemsSold => "total_items_sold",
        KpiFigure.ReturnRate => "return_rate",
        _ => "daily_revenue",
    };

    /// <summary>What it is called in a sentence: <c>total_orders</c>, <c>daily_revenue of Electronics</c>.</summary>
    public string Label => Category is null ? FigureName : $"{FigureName} of {Category}";

    /// <summary>Its key in the data-quality table: <c>2025-03-31#total_orders</c>, <c>2025-03-31#daily_revenue#Electronics</c>.</summary>
    public string Subject => $"{DayText(Day)}#{FigureName}{(Category is null ? "" : "#" + Category)}";

    public static FigureKey FromSubject(string subject)
    {
        var parts = subject.Split('#', 3);
        var figure = Enum.GetValues<KpiFigure>().Single(f => new FigureKey(default, f).FigureName == parts[1]);
        return new FigureKey(DateOnly.ParseExact(parts[0], "yyyy-MM-dd", CultureInfo.InvariantCulture), figure, parts.Length > 2 ? parts[2] : null);
    }

    public static string DayText(DateOnly day) => KpiCsv.Format(day);
}

public enum VerdictKind
{
    /// <summary>Within the band around the baseline.</summary>
    Normal,

    /// <summary>Outside the band.</summary>
    Anomalous,

    /// <summary>Fewer than <see cref="AnomalyOptions.MinimumHistory"/> of the baseline's weekdays have a value.</summary>
    NoVerdict,
}

/// <summary>
/// What the rule says of one figure. <paramref name="Deviation"/> is signed, in spreads ((value - baseline) / spread);
/// baseline, spread and deviation are null when there is no verdict.
/// </summary>
public sealed record FigureVerdict(FigureKey Key, VerdictKind Kind, double Value, double? Baseline, double? Spread, double? Deviation, int History);

/// <summary>
/// The anomaly rule, pure: a day's figure is compared with the same weekday over the previous
/// <see cref="AnomalyOptions.Weeks"/> weeks. The baseline is their median; the spread is the larger of 1.4826 x their MAD
/// (median absolute deviation; the factor makes it a standard deviation for normal data) and
/// <see cref="AnomalyOptions.SpreadFloor"/> x |baseline| (and never below the figure's smallest step, 0.01, so a history of
/// zeros has a spread); the value is anomalous when |value - baseline| / spread exceeds <see cref="AnomalyOptions.Threshold"/>.
/// Fewer than <see cref="AnomalyOptions.MinimumHistory"/> values in the history: no verdict.
/// </summary>
public static class AnomalyRule
{
    /// <summary>1 / Φ⁻¹(3/4): the MAD times this estimates the standard deviation of normal data.</summary>
    public const double MadScale = 1.4826;

    /// <summary>The smallest spread of any figure: a cent, a hundredth of a percentage point, below one order or item.</summary>
    public const double SmallestStep = 0.01;

    /// <summary>The days whose values make the baseline of <paramref name="day"/>: the same weekday, 1 to Weeks weeks before.</summary>
    public static IEnumerable<DateOnly> BaselineDays(DateOnly day, AnomalyOptions options) =>
        Enumerable.Range(1, options.Weeks).Select(week => day.AddDays(-7 * week));

    /// <summary>The verdict on <paramref name="value"/> given its history (the baseline days' values that exist).</summary>
    public static FigureVerdict Judge(FigureKey key, double value, IReadOnlyCollection<double> history, AnomalyOptions options)
    {
        if (history.Count < options.MinimumHistory)
        {
            return new FigureVerdict(key, VerdictKind.NoVerdict, value, null, null, null, history.Count);
        }
        var baseline = Median(history);
        var mad = Median(history.Select(h => Math.Abs(h - baseline)).ToList());
        var spread = Math.Max(Math.Max(MadScale * mad, options.SpreadFloor * Math.Abs(baseline)), SmallestStep);
        var deviation = (value - baseline) / spread;
        return new FigureVerdict(key, Math.Abs(deviation) > options.Threshold ? VerdictKind.Anomalous : VerdictKind.Normal,
            value, baseline, spread, deviation, history.Count);
    }

    /// <summary>
    /// The verdicts on every figure <paramref name="day"/> has: its row's four and the daily revenue of each of its
    /// categories; none when the day has not arrived (<see cref="HasArrived"/>). <paramref name="history"/> holds the rows of
    /// the day and of its baseline days (others are ignored).
    /// </summary>
    public static IReadOnlyList<FigureVerdict> Check(DateOnly day, KpiHistory history, AnomalyOptions options)
    {
        if (!HasArrived(day, history))
        {
            return [];
        }
        var baselineDays = BaselineDays(day, options).Where(d => HasArrived(d, history)).ToList();
        var (row, pastRows) = (history.Orders[day], baselineDays.Select(d => history.Orders[d]).ToList());
        var verdicts = OrderFigures.Select(f => Judge(new FigureKey(day, f.Figure), f.Read(row), pastRows.Select(f.Read).ToList(), options)).ToList();
        foreach (var category in history.CategoryRevenue.Keys.Where(k => k.Day == day).Select(k => k.Category).Order(StringComparer.Ordinal))
        {
            var past = baselineDays.Where(d => history.CategoryRevenue.ContainsKey((category, d)))
                .Select(d => (double)history.CategoryRevenue[(category, d)]).ToList();
            verdicts.Add(Judge(new FigureKey(day, KpiFigure.DailyRevenue, category), (double)history.CategoryRevenue[(category, day)], past, options));
        }
        return verdicts;
    }

    /// <summary>
    /// Whether the day's data has come: its row has orders (the freshness check's "covered"). A day without orders is not
    /// judged and is no part of a baseline: with a daily feed, the items of the last orders before midnight give the next
    /// day a row of almost nothing before its own batch arrives, and that is no anomaly. A day whose batch never comes is
    /// the freshness check's to report.
    /// </summary>
    public static bool HasArrived(DateOnly day, KpiHistory history) => history.Orders.GetValueOrDefault(day) is { } row && FreshnessRule.Covers(row);

    private static readonly (KpiFigure Figure, Func<OrderKpiRow, double> Read)[] OrderFigures =
    [
        (KpiFigure.TotalOrders, r => r.TotalOrders),
        (KpiFigure.TotalRevenue, r => (double)r.TotalRevenue),
        (KpiFigure.TotalItemsSold, r => r.TotalItemsSold),
        (KpiFigure.ReturnRate, r => r.ReturnRate),
    ];

    private static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToList();
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}

/// <summary>KPI rows by day, and daily revenue by category and day: a day's and its baseline days'.</summary>
public sealed record KpiHistory(
    IReadOnlyDictionary<DateOnly, OrderKpiRow> Orders,
    IReadOnlyDictionary<(string Category, DateOnly Day), decimal> CategoryRevenue)
{
    public static KpiHistory Of(IEnumerable<OrderKpiRow> orders, IEnumerable<CategoryKpiRow> categories) => new(
        orders.ToDictionary(r => r.OrderDate),
        categories.ToDictionary(r => (r.Category, r.OrderDate), r => r.DailyRevenue));
}
