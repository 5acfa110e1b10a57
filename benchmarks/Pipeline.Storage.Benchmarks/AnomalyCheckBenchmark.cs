using System.Diagnostics;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Quality;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Quality;
using static Benchmarks.Figures;

namespace Pipeline.Storage.Benchmarks;

/// <summary>
/// What the anomaly check of a seed-sized batch costs beside its fold (docs/data-quality.md, "Anomalies"): eight weeks of
/// history, then ten seed-sized batches (9,000 orders over the same 31 days) each folded, then checked as the Notifier
/// checks it (every day it touched, its categories). Target: the check's median time at most 5 % of the fold's (the fold
/// is the larger part of the Compute stage, which also reads the batch's files and archives them, so the share of the
/// stage is smaller still). Requests are counted too, since time on a loaded machine says little.
/// </summary>
internal static class AnomalyCheckBenchmark
{
    private const int Batches = 10;

    public static async Task<bool> RunAsync(StorageEmulators emulators)
    {
        var meter = new DynamoDbMeter();
        using var dynamoDb = emulators.CreateDynamoDb(config => config.HttpClientFactory = meter);
        var store = new DynamoKpiStore(dynamoDb, emulators.Topology, TimeProvider.System);
        var anomalies = new AnomalyStore(dynamoDb, emulators.Topology, new KpiQueries(dynamoDb, emulators.Topology), TimeProvider.System);
        var options = new AnomalyOptions();
        var first = new DateOnly(2028, 3, 6);

        Console.WriteLine("The anomaly check of seed-sized batches (9,000 orders over the same 31 days) after eight weeks of history:");
        await store.AddBatchAsync("anomaly-history", 1, KpiFoldBenchmark.Partial(9_000 * 56 / 31, seed: 2_000, days: 56, firstDay: first.AddDays(-56)),
            CancellationToken.None);
        var (folds, checks) = (new List<TimeSpan>(), new List<TimeSpan>());
        for (var i = 1; i <= Batches; i++)
        {
            var data = KpiFoldBenchmark.Partial(9_000, seed: 2_000 + (ulong)i, days: 31, firstDay: first);
            meter.Clear();
            var clock = Stopwatch.StartNew();
            var fold = await store.AddBatchAsync($"anomaly-{i:D2}", 1, data, CancellationToken.None);
            folds.Add(clock.Elapsed);
            var foldRequests = meter.Requests;

            meter.Clear();
            clock.Restart();
            var categories = data.CategoryDays.Select(c => c.Category).Distinct().ToList();
            var opened = await anomalies.CheckAsync(fold.Days, categories, $"anomaly-{i:D2}", 1, options, CancellationToken.None);
            checks.Add(clock.Elapsed);
            if (i is 1 or Batches)
            {
                Console.WriteLine($"  batch {i,2}: fold {folds[^1].TotalMilliseconds,5:F0} ms ({foldRequests} requests), check {checks[^1].TotalMilliseconds,4:F0} ms " +
                    $"({meter.Requests} requests: {meter.Describe()}; {opened.Count} anomalies opened) (load {LoadAverage()})");
            }
        }

        var (foldMedian, checkMedian) = (Median(folds), Median(checks));
        var share = checkMedian / foldMedian;
        var met = share <= 0.05;
        Console.WriteLine($"  median fold {foldMedian.TotalMilliseconds:F0} ms, median check {checkMedian.TotalMilliseconds:F0} ms: " +
            $"{share:P1} of the fold (target <= 5 %: {(met ? "met" : "MISSED")}; load {LoadAverage()})");
        return met;
    }
}
