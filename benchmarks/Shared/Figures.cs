using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace Benchmarks;

/// <summary>What the benchmarks print with their figures: how busy the machine was, and medians and percentiles of times.</summary>
internal static class Figures
{
    /// <summary>The 1, 5 and 15-minute load averages (other work on a shared machine skews every figure), or "n/a" off Linux.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>The 1-minute load average, or null off Linux.</summary>
    public static double? OneMinuteLoad() =>
        File.Exists("/proc/loadavg") ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture) : null;

    /// <summary>
    /// The commit the benchmark was built from (the SDK stamps it into the informational version, <c>1.0.0+&lt;sha&gt;</c>),
    /// and whether the checkout it runs in has changes that are not committed (then the figures are not that commit's alone).
    /// </summary>
    public static string Commit()
    {
        var version = Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        var commit = version.Contains('+', StringComparison.Ordinal) ? version[(version.IndexOf('+', StringComparison.Ordinal) + 1)..] : "unknown";
        return commit[..Math.Min(commit.Length, 12)] + (UncommittedChanges() ? " (the checkout has uncommitted changes)" : "");
    }

    private static bool UncommittedChanges()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "status --porcelain --untracked-files=no")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = AppContext.BaseDirectory,
            })!;
            var changes = git.StandardOutput.ReadToEnd();
            git.WaitForExit();
            return git.ExitCode == 0 && changes.Length > 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no git: nothing to say
        }
    }

    /// <summary>The middle time (of an even count, the mean of the two middle ones).</summary>
    public static TimeSpan Median(IEnumerable<TimeSpan> values) => TimeSpan.FromTicks((long)Math.Round(Median(values.Select(v => (double)v.Ticks))));

    /// <summary>The middle number (of an even count, the mean of the two middle ones).</summary>
    public static double Median(IEnumerable<double> values)
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

/// <summary>
/// The machine's load while a benchmark runs: the load average before it starts, the 1-minute figure sampled every few
/// seconds during it (mean and highest), and after it.
/// </summary>
internal sealed class LoadSampler : IAsyncDisposable
{
    private readonly List<double> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    public LoadSampler(TimeSpan every)
    {
        Before = Figures.LoadAverage();
        _sampling = SampleAsync(every);
    }

    /// <summary>The 1, 5 and 15-minute load averages when the sampler started.</summary>
    public string Before { get; }

    /// <summary>"mean 3.10, max 5.20 (40 samples)" of the 1-minute load average since the start.</summary>
    public string During
    {
        get
        {
            lock (_samples)
            {
                return _samples.Count == 0 ? "n/a" : $"mean {_samples.Average():F2}, max {_samples.Max():F2} ({_samples.Count} samples)";
            }
        }
    }

    private async Task SampleAsync(TimeSpan every)
    {
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token) && Figures.OneMinuteLoad() is { } load)
            {
                lock (_samples)
                {
                    _samples.Add(load);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }
}
