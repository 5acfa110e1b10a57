using System.Globalization;
using Pipeline.Engine.Kpis;

namespace Pipeline.Engine.DataQuality;

/// <summary>
/// The declared expectation of a daily feed: every day D has at least one accepted batch covering it (its order KPI row
/// has orders) by <see cref="Deadline"/> UTC on day D+1. Days are expected from the first day with data within the
/// last <see cref="LookbackDays"/> due days up to the last day whose deadline has passed.
/// </summary>
/// <param name="Deadline">The time of day, UTC, on the day after D, by which D must be covered.</param>
/// <param name="LookbackDays">How many due days back are looked at (older days are never reported).</param>
public sealed record FreshnessExpectation(TimeOnly Deadline, int LookbackDays)
{
    /// <summary>When <paramref name="day"/> must be covered: <see cref="Deadline"/> on the day after.</summary>
    public DateTimeOffset DeadlineOf(DateOnly day) => new(day.AddDays(1).ToDateTime(Deadline), TimeSpan.Zero);

    /// <summary>The last day whose deadline is at or before <paramref name="now"/>.</summary>
    public DateOnly LastDueDay(DateTimeOffset now)
    {
        var utc = now.UtcDateTime;
        var yesterday = DateOnly.FromDateTime(utc).AddDays(-1);
        return TimeOnly.FromDateTime(utc) >= Deadline ? yesterday : yesterday.AddDays(-1);
    }

    /// <summary>The due days looked at, <paramref name="now"/>: the last <see cref="LookbackDays"/> days up to <see cref="LastDueDay"/>.</summary>
    public (DateOnly From, DateOnly To) Window(DateTimeOffset now)
    {
        var last = LastDueDay(now);
        return (last.AddDays(1 - LookbackDays), last);
    }

    /// <summary>Reads a deadline written <c>HH:mm</c> (UTC, on the day after), such as <c>06:00</c>.</summary>
    /// <exception cref="FormatException">Anything else, said in the message.</exception>
    public static TimeOnly ParseDeadline(string text) =>
        TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
            ? time
            : throw new FormatException($"'{text}' is not a deadline: write the time of day, UTC, on the day after, as HH:mm (such as 06:00).");
}

public enum FreshnessStatus { OnTime, Late, Recovered }

/// <summary>What was recorded about a day: its status, and whether the alert of that status was sent.</summary>
/// <param name="Lapses">How many times the day was found late (a day covered, then retracted, can be late again).</param>
/// <param name="LateNoticedAt">When the day was last found late, kept once it recovers.</param>
public sealed record DayFreshness(
    DateOnly Day, FreshnessStatus Status, DateTimeOffset Deadline, DateTimeOffset NoticedAt, DateTimeOffset? LateNoticedAt, int Lapses, bool Announced)
{
    /// <summary>Late and recovered days are announced (one alert each); an on-time day is not.</summary>
    public bool NeedsAlert => Status != FreshnessStatus.OnTime && !Announced;
}

/// <summary>A day's status to record, on condition that the day's record is still <paramref name="From"/> (none when null).</summary>
public sealed record FreshnessChange(DateOnly Day, FreshnessStatus? From, FreshnessStatus To, DateTimeOffset Deadline);

/// <summary>Which days change status at a given instant. Pure: the watcher reads the facts, applies the changes and sends the alerts.</summary>
public static class FreshnessRule
{
    /// <summary>Whether a day's order KPI row says its data has come: it has orders (items alone may be the day before's).</summary>
    public static bool Covers(OrderKpiRow row) => row.TotalOrders > 0;

    /// <summary>
    /// The days expected at <paramref name="now"/>: from the first covered day of the window to the last due day (none
    /// when the window has no data at all: a feed that has not begun, or stopped longer ago than the lookback).
    /// </summary>
    public static IEnumerable<DateOnly> ExpectedDays(FreshnessExpectation expectation, DateTimeOffset now, IReadOnlySet<DateOnly> covered)
    {
        var (from, to) = expectation.Window(now);
        var first = covered.Where(d => d >= from && d <= to).DefaultIfEmpty(DateOnly.MaxValue).Min();
        for (var day = first; day <= to && day != DateOnly.MaxValue; day = day.AddDays(1))
        {
            yield return day;
        }
    }

    /// <summary>
    /// The changes at <paramref name="now"/>: an expected day without data is late (again, if it had recovered or been on
    /// time); a late day with data has recovered, once its late alert went out (so the two alerts come in order); a day
    /// with data never seen late is on time.
    /// </summary>
    /// <param name="covered">The days that have an order KPI row with orders.</param>
    /// <param name="recorded">What is recorded about the window's days.</param>
    public static IReadOnlyList<FreshnessChange> Changes(
        FreshnessExpectation expectation, DateTimeOffset now, IReadOnlySet<DateOnly> covered, IReadOnlyDictionary<DateOnly, DayFreshness> recorded)
    {
        var changes = new List<FreshnessChange>();
        foreach (var day in ExpectedDays(expectation, now, covered))
        {
            var record = recorded.GetValueOrDefault(day);
            FreshnessStatus? to = (covered.Contains(day), record?.Status) switch
            {
                (false, FreshnessStatus.Late) => null,
                (false, _) => FreshnessStatus.Late,
                (true, null) => FreshnessStatus.OnTime,
                (true, FreshnessStatus.Late) when record!.Announced => FreshnessStatus.Recovered,
                _ => null,
            };
            if (to is { } status)
            {
                changes.Add(new FreshnessChange(day, record?.Status, status, expectation.DeadlineOf(day)));
            }
        }
        return changes;
    }
}
