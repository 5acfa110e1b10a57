using Microsoft.Extensions.Options;
using Pipeline.Engine.DataQuality;

namespace Services.Notifier.Freshness;

/// <summary>The freshness check's settings (configuration section <c>Freshness</c>; docs/data-quality.md).</summary>
public sealed class FreshnessOptions
{
    public const string SectionName = "Freshness";

    /// <summary>Off: no day is checked and no freshness alert is sent.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// By when, UTC on the day after, a day must be covered (<c>HH:mm</c>). The seed's feed is daily: a day's batch is
    /// expected overnight, so 06:00 leaves the night to it.
    /// </summary>
    public string Deadline { get; set; } = "06:00";

    /// <summary>Due days looked at: a feed that stopped longer ago is no longer reported, and a day is read once a round within these.</summary>
    public int LookbackDays { get; set; } = 30;

    /// <summary>How often the days are checked (one BatchGetItem of the window's KPI rows and one Query of the verdicts).</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The check's "now" at the service's start, for tests and demonstrations: real time when not set. Only the check's
    /// clock moves: the service's own timers (queue visibility, heartbeats) stay on real time.
    /// </summary>
    public DateTimeOffset? ClockStart { get; set; }

    /// <summary>How fast the check's clock runs from <see cref="ClockStart"/> (1 is real time).</summary>
    public double ClockSpeed { get; set; } = 1;

    public FreshnessExpectation Expectation() => new(FreshnessExpectation.ParseDeadline(Deadline), LookbackDays);

    /// <summary>The check's clock, on <paramref name="real"/> time.</summary>
    public TimeProvider Clock(TimeProvider real) => ClockStart is null && ClockSpeed == 1 ? real : new ShiftedClock(real, ClockStart, ClockSpeed);

    /// <summary>Real time shifted to <c>start</c> at its creation, moving <c>speed</c> times as fast.</summary>
    private sealed class ShiftedClock(TimeProvider real, DateTimeOffset? start, double speed) : TimeProvider
    {
        private readonly DateTimeOffset _createdAt = real.GetUtcNow();

        public override DateTimeOffset GetUtcNow() => (start ?? _createdAt) + ((real.GetUtcNow() - _createdAt) * speed);
    }
}

/// <summary>Settings that cannot work stop the Notifier at start, naming the setting.</summary>
public sealed class FreshnessOptionsValidation : IValidateOptions<FreshnessOptions>
{
    public ValidateOptionsResult Validate(string? name, FreshnessOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }
        try
        {
            _ = FreshnessExpectation.ParseDeadline(options.Deadline);
        }
        catch (FormatException e)
        {
            return ValidateOptionsResult.Fail($"{FreshnessOptions.SectionName}:Deadline: {e.Message}");
        }
        return options switch
        {
            { LookbackDays: < 1 } => ValidateOptionsResult.Fail($"{FreshnessOptions.SectionName}:LookbackDays must be at least 1, not {options.LookbackDays}."),
            { CheckInterval.Ticks: <= 0 } => ValidateOptionsResult.Fail($"{FreshnessOptions.SectionName}:CheckInterval must be positive."),
            { ClockSpeed: < 0 or double.NaN } => ValidateOptionsResult.Fail($"{FreshnessOptions.SectionName}:ClockSpeed must be 0 or more."),
            _ => ValidateOptionsResult.Success,
        };
    }
}
