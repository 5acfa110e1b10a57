using Services.Notifier.Freshness;

namespace Services.Tests;

/// <summary>The freshness check's settings: the defaults, the check's own clock, and settings that cannot work refused by name.</summary>
public class FreshnessOptionsTests
{
    private static readonly DateTimeOffset RealStart = new(2026, 12, 5, 17, 0, 0, TimeSpan.Zero);

    [Fact]
    public void By_default_the_deadline_is_six_the_day_after_over_thirty_days_on_real_time()
    {
        var options = new FreshnessOptions();
        var real = new SettableClock(RealStart);

        Assert.Equal((true, new TimeOnly(6, 0), 30), (options.Enabled, options.Expectation().Deadline, options.Expectation().LookbackDays));
        Assert.Same(real, options.Clock(real));
    }

    [Fact]
    public void The_checks_clock_starts_where_it_is_told_and_runs_at_its_speed_while_real_time_is_untouched()
    {
        var real = new SettableClock(RealStart);
        var start = new DateTimeOffset(2031, 1, 6, 12, 0, 0, TimeSpan.Zero);
        var clock = new FreshnessOptions { ClockStart = start, ClockSpeed = 60 }.Clock(real);

        Assert.Equal(start, clock.GetUtcNow());
        real.Now = RealStart.AddMinutes(1);
        Assert.Equal(start.AddHours(1), clock.GetUtcNow());
        Assert.Equal(RealStart.AddMinutes(1), real.GetUtcNow());
    }

    [Theory]
    [InlineData("6am", 30, "Freshness:Deadline: '6am' is not a deadline")]
    [InlineData("06:00", 0, "Freshness:LookbackDays must be at least 1")]
    public void Settings_that_cannot_work_are_refused_naming_the_setting(string deadline, int lookbackDays, string message)
    {
        var result = new FreshnessOptionsValidation().Validate(null, new FreshnessOptions { Deadline = deadline, LookbackDays = lookbackDays });

        Assert.True(result.Failed);
        Assert.StartsWith(message, result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new FreshnessOptionsValidation().Validate(null, new FreshnessOptions { Enabled = false, Deadline = deadline }).Succeeded);
    }

    private sealed class SettableClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
