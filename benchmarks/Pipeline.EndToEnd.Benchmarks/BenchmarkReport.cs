using System.Reflection;
using Benchmarks;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>
/// What a run prints besides its detail: first what it runs on (commit, build configuration, where AWS is, the added
/// latency, replicas, cores, the load before it), then each figure as it is measured, and last one line with every
/// figure and the load before, during and after, the line the docs' table is made from.
/// </summary>
internal sealed class BenchmarkReport(EndToEndOptions options) : IAsyncDisposable
{
    private readonly List<string> _figures = [];
    private readonly List<string> _missed = [];
    private readonly LoadSampler _load = new(TimeSpan.FromSeconds(5));

    /// <summary>Debug or Release: the services are built with this benchmark (their project references), in its configuration.</summary>
    public static string BuildConfiguration { get; } =
        typeof(BenchmarkReport).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "unknown";

    public bool AllTargetsMet => _missed.Count == 0;

    public void PrintConditions()
    {
        Console.WriteLine($"mode: {options}");
        Console.WriteLine($"commit {Figures.Commit()}; services built {BuildConfiguration}; {Environment.ProcessorCount} cores");
        Console.WriteLine("AWS: the local emulators (Aws:Emulator=emulators: fauxqs for S3, SQS and SNS; dynalite for DynamoDB)");
        Console.WriteLine(options.AwsLatency
            ? $"AWS-like latency on every AWS call of the services (through a proxy): {AwsLatencyPlan.Describe()}"
            : "no added latency: each AWS call costs what the emulator takes");
        Console.WriteLine($"load average before start: {_load.Before}");
    }

    /// <summary>Prints a figure with its target (if it has one) and the load average now, and keeps it for the summary.</summary>
    /// <param name="met">Whether the target was met; null for a figure without a target.</param>
    public void Figure(string name, string value, string? detail = null, string? target = null, bool? met = null)
    {
        var verdict = target is null ? "" : $"target {target}: {(met == true ? "met" : "MISSED")}; ";
        Console.WriteLine($"{name}: {value} ({verdict}load {Figures.LoadAverage()}){(detail is null ? "" : $" ({detail})")}");
        _figures.Add($"{name} {value}{(met == false ? " (MISSED)" : "")}");
        if (met == false)
        {
            _missed.Add(name);
        }
    }

    public void PrintSummary()
    {
        Console.WriteLine($"load average at the end: {Figures.LoadAverage()}");
        Console.WriteLine($"summary: commit {Figures.Commit()}, {BuildConfiguration}, {options}, {Environment.ProcessorCount} cores | " +
            string.Join(" | ", _figures) +
            $" | load before {_load.Before}, during {_load.During}, after {Figures.LoadAverage()}" +
            (_missed.Count == 0 ? "" : $" | targets missed: {string.Join(", ", _missed)}"));
    }

    public ValueTask DisposeAsync() => _load.DisposeAsync();
}
