namespace Pipeline.Engine.DataQuality;

/// <summary>The settings of the anomaly rule (<see cref="AnomalyRule"/>; docs/data-quality.md, "Anomalies").</summary>
public sealed class AnomalyOptions
{
    /// <summary>The configuration section the services bind (<c>Anomalies__Threshold=4</c> in the environment).</summary>
    public const string SectionName = "Anomalies";

    /// <summary>Off: no day is checked, no anomaly is opened or cleared.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How many weeks back the baseline looks: the same weekday in each of them.</summary>
    public int Weeks { get; set; } = 8;

    /// <summary>How many of those weekdays must have a value for a verdict; with fewer the figure has no verdict.</summary>
    public int MinimumHistory { get; set; } = 4;

    /// <summary>A value is anomalous when it lies more than this many spreads from the baseline (a robust z-score).</summary>
    public double Threshold { get; set; } = 3.5;

    /// <summary>
    /// The smallest spread, as a fraction of the baseline: a history that hardly moves (a MAD of zero) does not make every
    /// small change an anomaly. With the defaults a value must differ from its baseline by more than 35 %.
    /// </summary>
    public double SpreadFloor { get; set; } = 0.1;

    /// <summary>The settings as given, or a message naming the first that cannot be.</summary>
    /// <exception cref="ArgumentException">A setting out of its range.</exception>
    public AnomalyOptions Validated()
    {
        string? problem = Weeks < 1 ? $"Anomalies:Weeks is {Weeks}: it must be at least 1"
            : MinimumHistory < 1 || MinimumHistory > Weeks ? $"Anomalies:MinimumHistory is {MinimumHistory}: it must be between 1 and Anomalies:Weeks ({Weeks})"
            : !(Threshold > 0) || double.IsInfinity(Threshold) ? $"Anomalies:Threshold is {Threshold}: it must be a positive number"
            : !(SpreadFloor >= 0) || double.IsInfinity(SpreadFloor) ? $"Anomalies:SpreadFloor is {SpreadFloor}: it must be zero or a positive number"
            : null;
        return problem is null ? this : throw new ArgumentException(problem);
    }
}
