using System.Diagnostics;
using Pipeline.Engine.DataQuality;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.DataQuality;
using Pipeline.Storage.Kpis;
using static Benchmarks.Figures;

namespace Pipeline.Storage.Benchmarks;

/// <summary>
/// What the anomaly check of a seed-sized batch costs beside its fold (docs/data-quality.md, "Anomalies"), as a shop
/// sees it: eight weeks of history at the seed's daily rate (290 orders a day), then the next 31 days as one seed-sized
/// batch (9,000 orders), folded, then checked as the Notifier checks it (every day it touched, its categories). Six
/// shops on days of their own, for medians. Target: the check's median time at most 5 % of the fold's (the fold is the
/// larger part of the Compute stage, which also reads the batch's files and archives them). The check runs in the
/// Notifier, after the stage; requests are counted too, since time on a loaded machine says little.
/// </summary>
internal static class AnomalyCheckBenchmark
{
    private const int Shops = 6;

    public static async Task<bool> RunAsync(StorageEmulators emulators)
    {
        var meter = new DynamoDbMeter();
        using var dynamoDb = emulators.CreateDynamoDb(config => config.HttpClientFactory = meter);
        var store = new DynamoKpiStore(dynamoDb, emulators.Topology, TimeProvider.System);
        var anomalies = new AnomalyStore(dynamoDb, emulators.Topology, TimeProvider.System);
        var options = new AnomalyOptions();

        Console.WriteLine("The anomaly check of a seed-sized batch (9,000 orders, 31 days) after eight weeks of history at the same rate:");
        var (folds, checks, rechecks) = (new List<TimeSpan>(), new List<TimeSpan>(), new List<TimeSpan>());
        for (var shop = 1; shop <= Shops; shop++)
        {
            var first = new DateOnly(2030, 1, 7).AddDays(shop * 140);
            await store.AddBatchAsync($"anomaly-history-{shop}", 1, KpiFoldBenchmark.Partial(290 * 56, seed: 2_000 + (ulong)shop, days: 56,
                firstDay: first.AddDays(-56)), CancellationToken.None);
            var data = KpiFoldBenchmark.Partial(9_000, seed: 2_100 + (ulong)shop, days: 31, firstDay: first);
            meter.Clear();
            var clock = Stopwatch.StartNew();
            var fold = await store.AddBatchAsync($"anomaly-{shop}", 1, data, CancellationToken.None);
            folds.Add(clock.Elapsed);
            var (foldRequests, foldDescribed) = (meter.Requests, meter.Describe());

            meter.Clear();
            clock.Restart();
            var opened = await anomalies.CheckAsync(fold.Days, $"anomaly-{shop}", 1, options, CancellationToken.None);
            checks.Add(clock.Elapsed);
            var (checkRequests, checkDescribed) = (meter.Requests, meter.Describe());

            // The same check again (a repeated delivery): what a check costs when no finding changes, its reads alone.
            meter.Clear();
            clock.Restart();
            await anomalies.CheckAsync(fold.Days, $"anomaly-{shop}", 1, options, CancellationToken.None);
            rechecks.Add(clock.Elapsed);
            Console.WriteLine($"  shop {shop}: fold {folds[^1].TotalMilliseconds,4:F0} ms ({foldRequests} requests: {foldDescribed}), " +
                $"check {checks[^1].TotalMilliseconds,4:F0} ms ({checkRequests} requests: {checkDescribed}; {opened.Count} anomalies opened on " +
                $"{opened.Select(a => a.Key.Day).Distinct().Count()} days: {string.Join(", ", opened.Select(a => $"{a.Key.Day:MM-dd} {a.Key.Label}"))}), " +
                $"check with nothing to write {rechecks[^1].TotalMilliseconds,4:F0} ms ({meter.Requests} requests: {meter.Describe()}) (load {LoadAverage()})");
        }

        var (foldMedian, checkMedian) = (Median(folds), Median(checks));
        var share = checkMedian / foldMedian;
        var met = share <= 0.05;
        Console.WriteLine($"  median fold {foldMedian.TotalMilliseconds:F0} ms, median check {checkMedian.TotalMilliseconds:F0} ms: " +
            $"{share:P1} of the fold (target <= 5 %: {(met ? "met" : "MISSED")}); with nothing to write {Median(rechecks).TotalMilliseconds:F0} ms, " +
            $"{Median(rechecks) / foldMedian:P1} (load {LoadAverage()})");
        return met;
    }
}
