using System.Diagnostics;
using Pipeline.Contracts.Alerts;
using Pipeline.Testing;
using Pipeline.Testing.Aws;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>
/// Throughput of many small batches: <c>count</c> copies of the seed batch (order ids of their own) dropped into the
/// bucket at once, as a shop's feeds would drop them: each uploaded by the storage code in this process (its files, the
/// manifest last) and announced by the S3 event AWS would send for the manifest, a few feeds uploading at a time. Timed
/// from the first upload to the last alert, once per replica count, each on a freshly started app; every batch must
/// succeed and the stored KPIs must be the engine's over all the batches (target: at least 60 batches a minute).
/// </summary>
internal static class SmallBatchesBenchmark
{
    /// <summary>Feeds uploading at the same time.</summary>
    private const int Feeds = 4;

    private const double TargetPerMinute = 60;

    public static async Task RunAsync(int count, IReadOnlyList<int> replicaCounts, bool awsLatency, BenchmarkReport report, CancellationToken cancellationToken)
    {
        Console.WriteLine($"{count} copies of the seed batch: {BenchmarkBatches.SeedSource}; {Feeds} feeds uploading at a time");
        var folders = Enumerable.Range(0, count).Select(BenchmarkBatches.SeedCopy).ToList();
        var expected = PipelineDriver.EngineKpis([.. folders]);
        foreach (var replicas in replicaCounts)
        {
            var latency = awsLatency ? new AwsLatencyPlan() : null;
            await using var proxy = latency is null ? null : await AwsProxy.StartAsync(latency);
            await using var pipeline = await EndToEndBenchmark.StartAsync(proxy, replicas, report);
            var names = folders.Select((_, i) => $"feed-r{replicas}-{i + 1:D3}").ToList();

            var since = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            var feeds = new ParallelOptions { MaxDegreeOfParallelism = Feeds, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(Enumerable.Range(0, count), feeds, async (i, _) => await pipeline.Driver.DropAsync(folders[i], names[i]));
            var dropped = clock.Elapsed;
            var failed = new List<string>();
            foreach (var name in names)
            {
                var alert = await pipeline.Driver.NextAlertAsync(name);
                if (alert.Status != AlertStatus.Succeeded)
                {
                    failed.Add($"{name}: {alert.Status} ({alert.Subject})");
                }
            }
            var elapsed = clock.Elapsed;

            var perMinute = count / elapsed.TotalMinutes;
            var label = $"{count} small batches, {replicas} replica{(replicas == 1 ? "" : "s")}";
            var outcome = failed.Count == 0 ? "every batch Succeeded" : $"{failed.Count} did not succeed: {string.Join("; ", failed)}";
            report.Figure(label, $"{perMinute:F0} batches a minute ({elapsed.TotalSeconds:F1} s to the last alert)",
                $"all dropped in {dropped.TotalSeconds:F1} s; {outcome}",
                $">= {TargetPerMinute} a minute, every batch Succeeded", perMinute >= TargetPerMinute && failed.Count == 0);
            await PrintStageTimesAsync(pipeline, names, elapsed);
            await pipeline.ReportCallsSinceAsync(since);
            await EndToEndBenchmark.CheckKpisAsync(pipeline, $"{label}: KPIs", expected, report);
        }
        folders.ForEach(f => Directory.Delete(f, recursive: true));
    }

    /// <summary>
    /// Where the time went: each stage's time summed over the batches (from their run records) against the time to the
    /// last alert. A stage whose sum comes near that time, with the instances it has, is the one that holds the rest up.
    /// </summary>
    private static async Task PrintStageTimesAsync(RunningPipeline pipeline, IReadOnlyList<string> names, TimeSpan elapsed)
    {
        var sums = new Dictionary<string, TimeSpan>();
        foreach (var name in names)
        {
            var run = (await pipeline.Driver.HistoryAsync(name)).Latest ?? throw new InvalidOperationException($"{name}: no run record");
            foreach (var (stage, record) in run.Stages)
            {
                sums[stage] = sums.GetValueOrDefault(stage) + ((record.FinishedAt ?? record.StartedAt) - record.StartedAt);
            }
        }
        Console.WriteLine($"  each stage's time summed over the {names.Count} batches, against {elapsed.TotalSeconds:F0} s to the last alert: " +
            string.Join(", ", sums.OrderByDescending(s => s.Value).Select(s => $"{s.Key} {s.Value.TotalSeconds:F0} s")));
    }
}
