using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Curated;
using Pipeline.Engine.Transform;
using static Benchmarks.Figures;

namespace Pipeline.Benchmarks;

/// <summary>
/// The curated order items of a batch written as Parquet by ParquetSharp (the product's writer) and by Parquet.Net, with
/// the same columns, row groups and codec, each run as its own process from the batch's enriched items file (as Compute
/// reads it): wall and CPU time, peak managed heap and RSS, and the Parquet's size against the order_items CSV's. A
/// replay alone (the enriched file read, nothing written) shows what the writing itself adds.
/// </summary>
internal static class ParquetComparison
{
    private static readonly string[] Contenders =
        ["replay", "parquetsharp zstd", "parquet.net zstd", "parquetsharp snappy", "parquet.net snappy", "parquetsharp zstd, 2 writers"];

    public static void Run(string batch, int runs)
    {
        string items = EnrichedItems(batch);
        long csvBytes = Directory.EnumerateFiles(Path.Combine(batch, "order_items")).Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"batch {batch}: order_items CSV {csvBytes / 1e6:F1} MB, enriched items {new FileInfo(items).Length / 1e6:F1} MB; " +
            $"{Environment.ProcessorCount} cores; {runs} runs each, alternated; load average {LoadAverage()}");

        string self = Path.Combine(AppContext.BaseDirectory, "Pipeline.Benchmarks");
        var results = Contenders.ToDictionary(c => c, _ => new List<ChildFigures>());
        for (int run = 0; run < runs; run++)
        {
            foreach (string contender in Contenders)
            {
                string output = Path.Combine(Path.GetTempPath(), "pipeline-bench-parquet", contender.Replace(' ', '-'));
                var start = new ProcessStartInfo(self, ["parquet-write", contender, items, output]) { RedirectStandardOutput = true };
                using Process child = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {self}.");
                string summary = child.StandardOutput.ReadToEnd();
                child.WaitForExit();
                results[contender].Add(JsonSerializer.Deserialize<ChildFigures>(summary.Trim().Split('\n')[^1])!);
            }
        }

        foreach (var (contender, figures) in results)
        {
            double median = Median(figures.Select(f => f.Seconds));
            double cpu = Median(figures.Select(f => f.CpuSeconds));
            long bytes = figures[^1].Bytes;
            string size = bytes > 0 ? $"{bytes / 1e6,6:F1} MB ({(double)bytes / csvBytes:P1} of the CSV)" : "—";
            Console.WriteLine(
                $"{contender,-20} best {figures.Min(f => f.Seconds),5:F2} s, median {median,5:F2} s wall, median {cpu,5:F2} s CPU, " +
                $"peak managed {figures.Max(f => f.PeakManagedBytes) / 1e6,5:F0} MB, peak RSS {figures.Max(f => f.PeakRssBytes) / 1e6,5:F0} MB, " +
                $"{Median(figures.Select(f => (double)f.FullCollections)),3:F0} full GCs pausing {Median(figures.Select(f => f.GcPauseSeconds)),4:F2} s, " +
                $"{size}, {figures[^1].Files} files, {figures[^1].Rows} rows");
        }
        Console.WriteLine($"load average {LoadAverage()}");
    }

    /// <summary>One contender's run, in this process (the child): prints its figures as JSON.</summary>
    public static void Write(string contender, string items, string output)
    {
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }
        Directory.CreateDirectory(output);
        long peakManaged = 0;
        using var sampler = new Timer(_ => InterlockedMax(ref peakManaged, GC.GetTotalMemory(false)), null, 0, 10);
        var files = new CuratedDayStreams(day => Path.Combine(output, $"order_date={day:yyyy-MM-dd}", "batch.parquet"));

        bool snappy = contender.EndsWith("snappy", StringComparison.Ordinal);
        var options = new CuratedWriterOptions { Compression = snappy ? CuratedCompression.Snappy : CuratedCompression.Zstd };
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        long rows = 0;
        using (var input = new FileStream(items, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            if (contender == "replay")
            {
                rows = EnrichedFile.ReadRecords(input, new NullSink()).Items;
            }
            else if (contender.EndsWith("writers", StringComparison.Ordinal))
            {
                // As Compute writes it (CuratedPublisher): the file read once, its days shared among writers on threads of their own.
                using var writer = new ParallelCuratedWriter(files.Open, int.Parse(contender.Split(' ')[^2], CultureInfo.InvariantCulture), options);
                EnrichedFile.ReadRecords(input, writer);
                rows = writer.Complete().Sum(f => f.Rows);
            }
            else if (contender.StartsWith("parquetsharp", StringComparison.Ordinal))
            {
                using var writer = new CuratedOrderItemsWriter(files.Open, options);
                EnrichedFile.ReadRecords(input, writer);
                rows = writer.Complete().Sum(f => f.Rows);
            }
            else
            {
                using var writer = new ParquetNetItemsWriter(files.Open, options);
                EnrichedFile.ReadRecords(input, writer);
                rows = writer.Complete().Sum(f => f.Rows);
            }
        }
        files.Dispose();
        double seconds = stopwatch.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        InterlockedMax(ref peakManaged, GC.GetTotalMemory(false));
        long bytes = Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        using var self = Process.GetCurrentProcess();
        var figures = new ChildFigures(seconds, cpu, Interlocked.Read(ref peakManaged), self.PeakWorkingSet64, bytes, files.Count, rows,
            GC.CollectionCount(2), GC.GetTotalPauseDuration().TotalSeconds);
        Console.WriteLine(JsonSerializer.Serialize(figures));
    }

    /// <summary>The batch's items as the Transform stage stores them (one combined enriched file), made anew each time.</summary>
    private static string EnrichedItems(string batch)
    {
        string path = Path.Combine(Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "pipeline-bench-parquet")).FullName, "order_items.pen");
        using var output = new EnrichedPartFiles();
        BatchResult result = new BatchProcessor().Process(LocalBatchFolder.Open(batch), output: output);
        var files = output.Combine(long.MaxValue);
        File.Copy(files.Single(f => f.Name.StartsWith("order_items/", StringComparison.Ordinal)).Path, path, overwrite: true);
        return result.Accepted ? path : throw new InvalidOperationException($"{batch} was not accepted");
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while (value > (seen = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private sealed record ChildFigures(
        double Seconds, double CpuSeconds, long PeakManagedBytes, long PeakRssBytes, long Bytes, int Files, long Rows,
        int FullCollections, double GcPauseSeconds);

    private sealed class NullSink : IEnrichedRecordWriter
    {
        public void Write(in OrderFact order)
        {
        }

        public void Write(in EnrichedOrderItem item)
        {
        }

        public void Dispose()
        {
        }
    }
}
