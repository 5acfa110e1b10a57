using Pipeline.Storage.Kpis;

namespace Pipeline.Storage.Benchmarks;

/// <summary>
/// Counts the DynamoDB requests of what Compute does with the KPI store for a seed-sized batch (9,000 orders over 31 days,
/// seven categories): a first batch on days no batch has, a second batch on the same days, and a new version of the
/// first replacing it. Counts, not times: each request is a round trip, which costs milliseconds in AWS.
/// </summary>
internal static class FoldCallCounts
{
    public static async Task RunAsync(StorageEmulators emulators)
    {
        var counter = new CountingHttpClientFactory();
        using var dynamoDb = emulators.CreateDynamoDb(config => config.HttpClientFactory = counter);
        var store = new DynamoKpiStore(dynamoDb, emulators.Topology, TimeProvider.System);
        var first = new DateOnly(2026, 3, 8);
        Console.WriteLine("DynamoDB requests of writing a seed-sized batch's contribution and folding it (9,000 orders, 31 days):");
        foreach (var (step, batch, version, seed) in new[]
                 {
                     ("a first batch on days of its own", "calls-a", 1, 1UL),
                     ("a second batch on the same days", "calls-b", 1, 2UL),
                     ("a new version of the first, replacing it", "calls-a", 2, 3UL),
                 })
        {
            var data = KpiFoldBenchmark.Partial(9_000, seed, days: 31, firstDay: first);
            counter.Clear();
            var fold = await store.AddBatchAsync(batch, version, data, CancellationToken.None);
            Console.WriteLine($"  {step}: {counter.Total} requests ({counter.Describe()}); {fold.OrderRows} order rows, {fold.CategoryRows} category rows");
        }
    }
}
