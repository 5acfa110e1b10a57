using Pipeline.Engine.Kpis;
using Pipeline.Storage.Kpis;
using static Benchmarks.Figures;

namespace Pipeline.Storage.Benchmarks;

/// <summary>
/// Issue #21's limit at full size (the tests cross the same bounds with small slots): 20,000 batches folded into one day
/// with the default slots, eight at once by one store, as one Compute task would (their contributions are written at
/// once; their folds of the day queue on the store's lock of the day, so they do not race each other). Checks the day's
/// KPI rows against the engine on all the batches, and prints the day's state items (slots, the largest item) and the
/// DynamoDB requests a fold made at the start and at the end.
/// </summary>
internal static class KpiLimitsBenchmark
{
    private const int AtOnce = 8;

    public static async Task<bool> RunAsync(StorageEmulators emulators, int batches)
    {
        var day = new DateOnly(2030, 6, 1);
        var limits = KpiStateLimits.Default;
        Console.WriteLine(
            $"{batches:N0} batches folded into one day, {AtOnce} at once by one store (slots of {limits.SlotBookkeepingBytes:N0} B, fanout {limits.Fanout}):");
        var counter = new DynamoDbMeter();
        var partials = new KpiPartial[batches];
        var window = Math.Min(1_000, batches / 4);
        var requestsAt = new long[batches];
        var next = -1;
        using var dynamoDb = emulators.CreateDynamoDb(config => config.HttpClientFactory = counter);
        var store = new DynamoKpiStore(dynamoDb, emulators.Topology, TimeProvider.System, limits);
        await Task.WhenAll(Enumerable.Range(0, AtOnce).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < batches; i = Interlocked.Increment(ref next))
            {
                partials[i] = Batch(i, day);
                await store.AddBatchAsync($"limits-batch-{i:D5}", 1, partials[i], CancellationToken.None);
                requestsAt[i] = counter.Requests;
                if ((i + 1) % 2_000 == 0)
                {
                    Console.WriteLine($"  {i + 1,6:N0} folded ({counter.Requests:N0} requests so far; load {LoadAverage()})");
                }
            }
        }));

        using var reader = emulators.CreateDynamoDb();
        var expected = KpiCalculator.Compute(KpiPartial.Merge(partials));
        var queries = new KpiQueries(reader, emulators.Topology);
        var categories = await queries.GetCategoriesOnDayAsync(day, CancellationToken.None);
        var exact = expected.OrderKpis.SequenceEqual(await queries.GetDaysAsync(day, day, CancellationToken.None))
            && expected.CategoryKpis.SequenceEqual(categories.OrderBy(r => r.Category, StringComparer.Ordinal));
        var items = await queries.GetDayStateItemsAsync(day, CancellationToken.None);
        var slots = items.Where(i => i["part"].S.StartsWith("totals", StringComparison.Ordinal)).ToList();
        var largest = items.MaxBy(DynamoItemSize.Of)!;
        var size = DynamoItemSize.Of(largest);
        Console.WriteLine($"  rows equal the engine's on all {batches:N0} batches: {(exact ? "yes" : "NO")}");
        Console.WriteLine($"  state: {items.Count} items, {slots.Count} of them slots (deepest {slots.Max(s => s["part"].S.Count(c => c == '.') + 1)} " +
            $"levels below the root); largest {largest["part"].S}, {size:N0} bytes ({size * 100.0 / DynamoItemSize.Limit:F0} % of 400 KB)");
        Console.WriteLine($"  requests a fold: {(double)requestsAt.Take(window).Max() / window:F1} over the first {window:N0}, " +
            $"{(double)(counter.Requests - requestsAt[batches - window - 1]) / window:F1} over the last {window:N0} (writing the contribution included)");
        return exact && size < DynamoItemSize.Limit / 2;
    }

    /// <summary>One day's worth of a small batch: two or three categories, a few dozen orders and customers over three pages.</summary>
    private static KpiPartial Batch(int seed, DateOnly day)
    {
        var random = new Random(seed);
        var categories = new[] { "Jeans", "Accessories", "Outerwear & Coats" }.Where(_ => random.Next(3) > 0)
            .Select(c => (Category: c, Items: random.Next(1, 20)))
            .Select(c => new CategoryDayContribution(c.Category, day, c.Items * (random.Next(100, 90_000) / 100m), c.Items, random.Next(0, 2)))
            .ToList();
        var orders = random.Next(1, 30);
        var customers = Enumerable.Range(0, 40).Select(_ => (long)random.Next(1, 3 * 65_536)).Distinct().Order().ToList();
        return KpiPartial.Merge(new KpiPartial(categories, [new DayContribution(day, orders, orders + 5, random.Next(0, 2), customers)]));
    }
}
