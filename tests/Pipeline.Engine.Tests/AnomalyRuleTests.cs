using Pipeline.Engine.Batches;
using Pipeline.Engine.DataQuality;
using Pipeline.Engine.Generation;
using Pipeline.Engine.Kpis;
using Pipeline.Testing;

namespace Pipeline.Engine.Tests;

/// <summary>The anomaly rule on the worked example of docs/data-quality.md, its edges, and on generated data.</summary>
public sealed class AnomalyRuleTests
{
    private static readonly AnomalyOptions Defaults = new();

    /// <summary>Monday 2025-03-31; the four Mondays before it had 300, 310, 290 and 305 orders (docs/data-quality.md).</summary>
    private static readonly DateOnly Monday = new(2025, 3, 31);

    private static readonly FigureKey Orders = new(Monday, KpiFigure.TotalOrders);

    [Fact]
    public void The_worked_example_half_the_orders_is_an_anomaly_five_spreads_below_the_baseline()
    {
        var verdict = AnomalyRule.Judge(Orders, 150, [300, 310, 290, 305], Defaults);

        // Median 302.5; deviations 2.5, 7.5, 12.5, 2.5, MAD 5, so 1.4826 x 5 = 7.41; the floor 10 % x 302.5 = 30.25 is larger.
        Assert.Equal((VerdictKind.Anomalous, 302.5, 30.25), (verdict.Kind, verdict.Baseline, verdict.Spread));
        Assert.Equal(-5.04, verdict.Deviation!.Value, 2);
        Assert.Equal(4, verdict.History);
    }

    [Theory]
    [InlineData(280, VerdictKind.Normal)]
    [InlineData(408, VerdictKind.Normal)] // 3.49 spreads above
    [InlineData(409, VerdictKind.Anomalous)] // 3.52 spreads above
    [InlineData(197, VerdictKind.Normal)] // 3.49 spreads below
    [InlineData(196, VerdictKind.Anomalous)] // 3.52 spreads below
    public void Values_are_anomalous_exactly_beyond_the_threshold(double value, VerdictKind expected)
    {
        Assert.Equal(expected, AnomalyRule.Judge(Orders, value, [300, 310, 290, 305], Defaults).Kind);
    }

    [Fact]
    public void Too_little_history_gives_no_verdict_and_says_how_much_there_was()
    {
        var verdict = AnomalyRule.Judge(Orders, 150, [300, 310, 290], Defaults);

        Assert.Equal((VerdictKind.NoVerdict, 3, (double?)null, (double?)null), (verdict.Kind, verdict.History, verdict.Baseline, verdict.Deviation));
    }

    [Fact]
    public void A_history_that_never_moves_has_the_floor_as_its_spread_and_a_history_of_zeros_a_cent()
    {
        var flat = AnomalyRule.Judge(Orders, 110, [100, 100, 100, 100], Defaults);
        Assert.Equal((VerdictKind.Normal, 10.0, 1.0), (flat.Kind, flat.Spread, flat.Deviation));
        Assert.Equal(VerdictKind.Anomalous, AnomalyRule.Judge(Orders, 136, [100, 100, 100, 100], Defaults).Kind);

        var zeros = AnomalyRule.Judge(new FigureKey(Monday, KpiFigure.ReturnRate), 0.5, [0, 0, 0, 0], Defaults);
        Assert.Equal((VerdictKind.Anomalous, AnomalyRule.SmallestStep), (zeros.Kind, zeros.Spread));
    }

    [Fact]
    public void A_wide_history_widens_the_band_through_its_mad()
    {
        // Median 300, MAD 50: the spread is 1.4826 x 50 = 74.13, so 150 is only 2.02 spreads below.
        var verdict = AnomalyRule.Judge(Orders, 150, [200, 250, 300, 350, 400], Defaults);

        Assert.Equal((VerdictKind.Normal, 74.13), (verdict.Kind, verdict.Spread));
    }

    [Fact]
    public void Settings_change_the_verdict_and_bad_settings_are_refused_by_name()
    {
        Assert.Equal(VerdictKind.Normal, AnomalyRule.Judge(Orders, 150, [300, 310, 290, 305], new AnomalyOptions { Threshold = 6 }).Kind);
        Assert.Equal(VerdictKind.Anomalous, AnomalyRule.Judge(Orders, 150, [300, 310, 290], new AnomalyOptions { MinimumHistory = 3 }).Kind);

        Assert.Empty(Defaults.Problems());
        Assert.Equal(["Anomalies:MinimumHistory must be from 1 to Anomalies:Weeks (8), not 9."], new AnomalyOptions { MinimumHistory = 9 }.Problems());
        Assert.Equal(["Anomalies:Weeks must be at least 1, not 0.", "Anomalies:MinimumHistory must be from 1 to Anomalies:Weeks (0), not 4.",
            "Anomalies:Threshold must be a positive number, not 0."], new AnomalyOptions { Weeks = 0, Threshold = 0 }.Problems());
    }

    [Fact]
    public void A_day_is_checked_on_its_four_figures_and_each_categorys_revenue_against_the_same_weekday()
    {
        var history = KpiHistory.Of(
            [
                Row(Monday, 150), Row(Monday.AddDays(-1), 999),
                .. new[] { 300, 310, 290, 305 }.Select((orders, week) => Row(Monday.AddDays(-7 * (week + 1)), orders)),
            ],
            [new CategoryKpiRow("Books", Monday, 500m, 0, 0), new CategoryKpiRow("Books", Monday.AddDays(-7), 480m, 0, 0)]);

        var verdicts = AnomalyRule.Check(Monday, history, Defaults);

        Assert.Equal(
            ["2025-03-31#total_orders", "2025-03-31#total_revenue", "2025-03-31#total_items_sold", "2025-03-31#return_rate", "2025-03-31#daily_revenue#Books"],
            verdicts.Select(v => v.Key.Subject));
        Assert.Equal(
            [VerdictKind.Anomalous, VerdictKind.Anomalous, VerdictKind.Anomalous, VerdictKind.Normal, VerdictKind.NoVerdict],
            verdicts.Select(v => v.Kind));
        Assert.Equal(new FigureKey(Monday, KpiFigure.DailyRevenue, "Books"), FigureKey.FromSubject("2025-03-31#daily_revenue#Books"));
    }

    [Fact]
    public void Generated_data_shaped_like_the_seed_has_no_anomaly_not_even_on_the_day_after_it_and_half_a_days_orders_is_an_anomaly()
    {
        var folder = Directory.CreateTempSubdirectory("anomaly-rule-").FullName;
        try
        {
            SyntheticBatchGenerator.Generate(folder,
                new GeneratorOptions(9_000, Parts: 3, Seed: 1, Days: 31, Products: 500) { FirstDay = new DateOnly(2025, 3, 8) });
            var tables = KpiCalculator.Compute(new BatchProcessor().Process(LocalBatchFolder.Open(folder)).Kpis!);
            var (full, partial) = (tables.OrderKpis[^2], tables.OrderKpis[^1]);
            var history = KpiHistory.Of(tables.OrderKpis, tables.CategoryKpis);

            // The orders of the hour before midnight whose items fall on the next day give it a row without orders: with a daily
            // feed, the next batch's day before that batch arrives. It has not arrived, so it is not judged (nor a baseline day).
            Assert.Equal((new DateOnly(2025, 4, 8), 0L), (partial.OrderDate, partial.TotalOrders));
            Assert.Empty(AnomalyRule.Check(partial.OrderDate, history, Defaults));
            Assert.Empty(AnomalousDays(tables, history));

            var halved = history with
            {
                Orders = new Dictionary<DateOnly, OrderKpiRow>(history.Orders) { [full.OrderDate] = full with { TotalOrders = full.TotalOrders / 2 } },
            };
            Assert.Equal([KpiFigure.TotalOrders],
                AnomalyRule.Check(full.OrderDate, halved, Defaults).Where(v => v.Kind == VerdictKind.Anomalous).Select(v => v.Key.Figure));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [SeedDataFact]
    public void The_seed_data_is_anomalous_only_on_its_last_day_which_has_one_order()
    {
        var tables = KpiCalculator.Compute(new BatchProcessor().Process(LocalBatchFolder.Open(SeedData.Directory!)).Kpis!);

        Assert.Equal((new DateOnly(2025, 4, 7), 1L), (tables.OrderKpis[^1].OrderDate, tables.OrderKpis[^1].TotalOrders));
        Assert.Equal([new DateOnly(2025, 4, 7)], AnomalousDays(tables, KpiHistory.Of(tables.OrderKpis, tables.CategoryKpis)));
    }

    private static List<DateOnly> AnomalousDays(KpiTables tables, KpiHistory history) => tables.OrderKpis
        .Where(r => AnomalyRule.Check(r.OrderDate, history, Defaults).Any(v => v.Kind == VerdictKind.Anomalous)).Select(r => r.OrderDate).ToList();

    private static OrderKpiRow Row(DateOnly day, long orders) => new(day, orders, orders * 50m, orders * 3, 10.0, orders);
}
