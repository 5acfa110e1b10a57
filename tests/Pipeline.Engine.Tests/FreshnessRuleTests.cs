using Pipeline.Engine.DataQuality;

namespace Pipeline.Engine.Tests;

/// <summary>Which days are due, late, on time or recovered at a given instant (FreshnessRule, pure).</summary>
public class FreshnessRuleTests
{
    private static readonly FreshnessExpectation Daily = new(new TimeOnly(6, 0), LookbackDays: 30);

    private static DateOnly March(int day) => new(2025, 3, day);

    private static DateTimeOffset At(int day, int hour, int minute = 0) => new(2025, 3, day, hour, minute, 0, TimeSpan.Zero);

    private static HashSet<DateOnly> Covered(params int[] days) => days.Select(March).ToHashSet();

    private static DayFreshness Recorded(int day, FreshnessStatus status, bool announced = true) =>
        new(March(day), status, Daily.DeadlineOf(March(day)), At(day + 1, 7), null, status == FreshnessStatus.OnTime ? 0 : 1, announced);

    private static IReadOnlyList<FreshnessChange> Changes(DateTimeOffset now, HashSet<DateOnly> covered, params DayFreshness[] recorded) =>
        FreshnessRule.Changes(Daily, now, covered, recorded.ToDictionary(d => d.Day));

    [Fact]
    public void A_days_deadline_is_the_time_on_the_day_after_and_the_day_is_due_from_that_minute_on()
    {
        Assert.Equal(At(9, 6), Daily.DeadlineOf(March(8)));
        Assert.Equal(March(7), Daily.LastDueDay(At(9, 5, 59)));
        Assert.Equal(March(8), Daily.LastDueDay(At(9, 6)));
        Assert.Equal((March(8).AddDays(-29), March(8)), Daily.Window(At(9, 23, 59)));
    }

    [Fact]
    public void Days_are_expected_from_the_first_day_with_data_in_the_window_to_the_last_due_day()
    {
        Assert.Equal([March(5), March(6), March(7), March(8)], FreshnessRule.ExpectedDays(Daily, At(9, 6), Covered(5, 7)));
        // No data in the window: a feed that has not begun (or stopped longer ago than the lookback) expects nothing.
        Assert.Empty(FreshnessRule.ExpectedDays(Daily, At(9, 6), Covered()));
        Assert.Empty(FreshnessRule.ExpectedDays(Daily, At(9, 6), Covered(9)));
        Assert.Empty(FreshnessRule.ExpectedDays(new FreshnessExpectation(new TimeOnly(6, 0), 3), At(9, 6), Covered(5)));
    }

    [Fact]
    public void A_missing_day_is_late_once_its_deadline_passed_and_not_a_minute_before()
    {
        Assert.Empty(Changes(At(9, 5, 59), Covered(7), Recorded(7, FreshnessStatus.OnTime)));

        var changes = Changes(At(9, 6), Covered(7), Recorded(7, FreshnessStatus.OnTime));

        Assert.Equal([new FreshnessChange(March(8), null, FreshnessStatus.Late, At(9, 6))], changes);
    }

    [Fact]
    public void A_late_day_is_reported_once_not_every_round()
    {
        Assert.Empty(Changes(At(10, 5), Covered(7), Recorded(7, FreshnessStatus.OnTime), Recorded(8, FreshnessStatus.Late)));
    }

    [Fact]
    public void A_day_that_arrives_late_has_recovered_once_its_late_alert_went_out()
    {
        Assert.Equal([new FreshnessChange(March(8), FreshnessStatus.Late, FreshnessStatus.Recovered, At(9, 6))],
            Changes(At(10, 5), Covered(7, 8), Recorded(7, FreshnessStatus.OnTime), Recorded(8, FreshnessStatus.Late)));
        // Not before: the Late alert first, so the two come in order.
        Assert.Empty(Changes(At(10, 5), Covered(7, 8),
            Recorded(7, FreshnessStatus.OnTime), Recorded(8, FreshnessStatus.Late, announced: false)));
    }

    [Fact]
    public void A_covered_day_never_seen_late_is_on_time_and_one_that_loses_its_data_is_late_again()
    {
        Assert.Equal([new FreshnessChange(March(7), null, FreshnessStatus.OnTime, At(8, 6))],
            Changes(At(8, 6), Covered(7)));
        // Its batches retracted: days 7 and 8 stay expected (6 still has data), and 7 is late again.
        Assert.Equal(
            [
                new FreshnessChange(March(7), FreshnessStatus.Recovered, FreshnessStatus.Late, At(8, 6)),
                new FreshnessChange(March(8), FreshnessStatus.OnTime, FreshnessStatus.Late, At(9, 6)),
            ],
            Changes(At(9, 6), Covered(6),
                Recorded(6, FreshnessStatus.OnTime), Recorded(7, FreshnessStatus.Recovered), Recorded(8, FreshnessStatus.OnTime)));
    }

    [Fact]
    public void A_deadline_is_read_as_HH_mm_and_anything_else_is_refused_by_name()
    {
        Assert.Equal(new TimeOnly(23, 30), FreshnessExpectation.ParseDeadline("23:30"));
        var error = Assert.Throws<FormatException>(() => FreshnessExpectation.ParseDeadline("6am"));
        Assert.Contains("HH:mm", error.Message, StringComparison.Ordinal);
    }
}
