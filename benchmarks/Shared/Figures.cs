namespace Benchmarks;

/// <summary>What the benchmarks print with their figures: how busy the machine was, and medians and percentiles of times.</summary>
internal static class Figures
{
    /// <summary>The 1, 5 and 15-minute load averages (other work on a shared machine skews every figure), or "n/a" off Linux.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>The middle time (of an even count, the mean of the two middle ones).</summary>
    public static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The time that <paramref name="share"/> of the times do not exceed (nearest rank).</summary>
    public static TimeSpan Percentile(IEnumerable<TimeSpan> values, double share)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(share * sorted.Count))];
    }
}
