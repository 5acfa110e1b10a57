using System.Diagnostics;
using System.Text.Json;
using Pipeline.Engine.Csv;
using static Benchmarks.Figures;

namespace Pipeline.Benchmarks;

/// <summary>
/// Runs each contender as its own process, as a user would, and reports wall time (best and median
/// of the runs), rows/s, MB/s and the child's own peak RSS.
/// </summary>
internal static class EndToEnd
{
    /// <param name="gzipped">The same batch gzipped, timed after the plain one and set against it; null: not timed.</param>
    public static void Run(string batch, int runs, bool withDuckDb, string? gzipped = null)
    {
        long bytes = Bytes(batch);
        Console.WriteLine($"batch {batch}: {bytes / 1e6:F1} MB of CSV; {Environment.ProcessorCount} cores; {runs} runs each; load average {LoadAverage()}");

        string output = Path.Combine(Path.GetTempPath(), "pipeline-bench-out");
        string pipeline = Path.Combine(AppContext.BaseDirectory, "pipeline");
        List<Measurement> plain = Measure(runs, pipeline, "process", batch, "--out", Path.Combine(output, "pipeline"));
        Report("pipeline process", bytes, plain);
        if (gzipped is not null)
        {
            // MB/s of the gzipped run are of the plain CSV it holds, so that the two lines compare.
            Console.WriteLine($"gzipped {gzipped}: {Bytes(gzipped) / 1e6:F1} MB as stored; load average {LoadAverage()}");
            List<Measurement> compressed = Measure(runs, pipeline, "process", gzipped, "--out", Path.Combine(output, "pipeline-gz"));
            Report("pipeline process gz", bytes, compressed);
            double ratio = compressed.Min(measurement => measurement.Seconds) / plain.Min(measurement => measurement.Seconds);
            Console.WriteLine($".csv.gz against plain: {ratio:F2}x the time (best of each; target <= 1.5x); load average {LoadAverage()}");
        }

        if (withDuckDb)
        {
            string self = Path.Combine(AppContext.BaseDirectory, "Pipeline.Benchmarks");
            Report("duckdb (2 threads)", bytes, Measure(runs, self, "duckdb", batch, Path.Combine(output, "duckdb")));
        }
    }

    private static long Bytes(string batch) =>
        Directory.EnumerateFiles(batch, "*", SearchOption.AllDirectories).Where(PartFormat.IsPartName).Sum(file => new FileInfo(file).Length);

    private static List<Measurement> Measure(int runs, string program, params string[] arguments)
    {
        var measurements = new List<Measurement>();
        for (int run = 0; run < runs; run++)
        {
            var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true };
            var stopwatch = Stopwatch.StartNew();
            using Process child = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
            string summary = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            double seconds = stopwatch.Elapsed.TotalSeconds;
            using JsonDocument json = JsonDocument.Parse(summary.Trim().Split('\n')[^1]);
            long rows = json.RootElement.TryGetProperty("rows_read", out JsonElement rowsRead) ? rowsRead.GetInt64() : 0;
            measurements.Add(new Measurement(seconds, json.RootElement.GetProperty("peak_rss_bytes").GetInt64(), rows, child.ExitCode));
        }

        return measurements;
    }

    private static void Report(string name, long bytes, List<Measurement> measurements)
    {
        Measurement best = measurements.MinBy(measurement => measurement.Seconds)!;
        double median = measurements.Select(measurement => measurement.Seconds).Order().ElementAt(measurements.Count / 2);
        string rows = best.Rows > 0 ? $"{best.Rows / best.Seconds / 1e6,6:F2} M rows/s, " : string.Empty;
        Console.WriteLine(
            $"{name,-20} best {best.Seconds,6:F2} s, median {median,6:F2} s, {rows}{bytes / 1e6 / best.Seconds,7:F1} MB/s, " +
            $"peak RSS {measurements.Max(measurement => measurement.PeakRssBytes) / 1e6,6:F0} MB, exit {best.ExitCode}");
    }

    private sealed record Measurement(double Seconds, long PeakRssBytes, long Rows, int ExitCode);
}
