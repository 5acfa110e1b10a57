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

    /// <summary>What cannot work in the settings, a sentence each, naming the setting; none when they can all work.</summary>
    public IEnumerable<string> Problems()
    {
        if (Weeks < 1)
        {
            yield return $"{SectionName}:Weeks must be at least 1, not {Weeks}.";
        }
        if (MinimumHistory < 1 || MinimumHistory > Weeks)
        {
            yield return $"{SectionName}:MinimumHistory must be from 1 to {SectionName}:Weeks ({Weeks}), not {MinimumHistory}.";
        }
        if (!(Threshold > 0) || double.IsInfinity(Threshold))
        {
            yield return $"{SectionName}:Threshold must be a positive number, not {Threshold}.";
        }
        if (!(SpreadFloor >= 0) || double.IsInfinity(SpreadFloor))
        {
            yield return $"{SectionName}:SpreadFloor must be zero or a positive number, not {SpreadFloor}.";
        }
    }
}
