using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Kpis;
using Xunit.Abstractions;

namespace Pipeline.Storage.Tests;

/// <summary>
/// A day's KPI state at its limits (issue #21): many batches on one day, and one day with millions of orders and customers,
/// end exact with every state item far under DynamoDB's 400 KB. The full 20,000 batches run in the storage benchmark
/// (<c>-- --limits</c>); here slots are made small, so that a few hundred batches cross every bound the full run does.
/// </summary>
public class KpiStateLimitTests(LocalAwsFixture aws, ITestOutputHelper output) : IClassFixture<LocalAwsFixture>
{
    /// <summary>About 30 batches a slot, four children to a full slot: 400 batches fill the root and its children and reach a third level.</summary>
    private static readonly KpiStateLimits SmallSlots = new() { SlotBookkeepingBytes = 512, Fanout = 4 };

    [Fact]
    public async Task Many_batches_on_one_day_split_its_state_into_slots_that_stay_small_and_exact_through_replacements_and_retractions()
    {
        var day = new DateOnly(2061, 5, 1);
        var inForce = new Dictionary<string, KpiPartial>();
        var work = new List<(string Name, int Version, KpiPartial? Data)>();
        for (var i = 0; i < 400; i++)
        {
            work.Add(($"slots-{i:D4}", 1, inForce[$"slots-{i:D4}"] = OneDayBatch(i, day)));
        }
        // Then, all at once with new batches: every tenth replaced, every twentieth (others) retracted, some delivered again.
        for (var i = 0; i < 400; i += 10)
        {
            work.Add(($"slots-{i:D4}", 2, inForce[$"slots-{i:D4}"] = OneDayBatch(10_000 + i, day)));
        }
        for (var i = 5; i < 400; i += 20)
        {
            work.Add(($"slots-{i:D4}", 2, null));
            inForce.Remove($"slots-{i:D4}");
        }
        work.AddRange(work.Where((_, i) => i % 37 == 0).ToList());

        // Four replicas, each folding its share in order, at the same time (the first 400 before the rest in each share).
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async replica =>
        {
            using var dynamoDb = aws.CreateDynamoDb();
            var store = new DynamoKpiStore(dynamoDb, aws.Topology, TimeProvider.System, SmallSlots);
            foreach (var (name, version, data) in work.Where((_, i) => i % 4 == replica))
            {
                await (data is null
                    ? store.RetractAsync(name, version, CancellationToken.None)
                    : store.AddBatchAsync(name, version, data, CancellationToken.None));
            }
        }));

        using var reader = aws.CreateDynamoDb();
        await AssertDayEqual(reader, KpiPartial.Merge(inForce.Values), day);
        var items = await new KpiQueries(reader, aws.Topology).GetDayStateItemsAsync(day, CancellationToken.None);
        var slots = items.Where(i => i["part"].S.StartsWith("totals", StringComparison.Ordinal)).ToList();
        Assert.Contains(slots, s => s["part"].S.Count(c => c == '.') >= 1); // a child of a child: the bound crossed twice
        foreach (var slot in slots)
        {
            // What a slot spends on its batches stays within the limit (one more version a batch may add a digit).
            var bookkeeping = DynamoItemSize.Of(slot["applied"]) + DynamoItemSize.Of(slot["pages"]);
            Assert.True(bookkeeping <= SmallSlots.SlotBookkeepingBytes + 8, $"{slot["part"].S}: {bookkeeping} bytes of bookkeeping");
        }
        Report(items, $"{work.Count} folds of 400 batches on one day, slots of {SmallSlots.SlotBookkeepingBytes} B: {slots.Count} slot items");
    }

    [Fact]
    public async Task A_day_of_five_million_orders_from_two_million_customers_counts_each_customer_once()
    {
        var day = new DateOnly(2062, 3, 1);
        // 50 batches of 100,000 orders; batch i has the 80,000 customers from 40,000 i on (wrapping at two million), so
        // neighbours share half their customers and together they have each of the two million.
        const int Batches = 50, Customers = 2_000_000;
        var batches = Enumerable.Range(0, Batches).Select(i => new KpiPartial(
            [new CategoryDayContribution("Jeans", day, 100_000m * 25.5m, 150_000, 1_000 + i)],
            [new DayContribution(day, 100_000, 150_000, 900 + i,
                Enumerable.Range(0, 80_000).Select(k => (long)((40_000 * i + k) % Customers) + 1).Order().ToList())])).ToList();

        using var dynamoDb = aws.CreateDynamoDb();
        var store = new DynamoKpiStore(dynamoDb, aws.Topology, TimeProvider.System);
        for (var i = 0; i < Batches; i++)
        {
            await store.AddBatchAsync($"two-million-{i:D2}", 1, batches[i], CancellationToken.None);
        }

        var row = (await new KpiQueries(dynamoDb, aws.Topology).GetDayAsync(day, CancellationToken.None))!;
        Assert.Equal(Customers, row.UniqueCustomers);
        Assert.Equal(5_000_000, row.TotalOrders);
        await AssertDayEqual(dynamoDb, KpiPartial.Merge(batches), day);
        var state = await new KpiQueries(dynamoDb, aws.Topology).GetDayStateItemsAsync(day, CancellationToken.None);
        Report(state, "5,000,000 orders from 2,000,000 customers on one day");
    }

    /// <summary>A batch of one day: a few categories, and 40 customers over the day's first three pages (65,536 ids each).</summary>
    private static KpiPartial OneDayBatch(int seed, DateOnly day)
    {
        var random = new Random(seed);
        var categories = new List<CategoryDayContribution>();
        foreach (var category in new[] { "Jeans", "Accessories", "Sleep & Lounge" }.Where(_ => random.Next(3) > 0))
        {
            var items = random.Next(1, 20);
            categories.Add(new CategoryDayContribution(category, day, random.Next(100, 90_000) / 100m * items, items, random.Next(0, 3)));
        }
        var orders = random.Next(1, 30);
        var customers = Enumerable.Range(0, 40).Select(_ => (long)random.Next(1, 3 * 65_536)).Distinct().Order().ToList();
        return KpiPartial.Merge(new KpiPartial(categories, [new DayContribution(day, orders, orders + 5, random.Next(0, 2), customers)]));
    }

    private async Task AssertDayEqual(IAmazonDynamoDB dynamoDb, KpiPartial expectedState, DateOnly day)
    {
        var expected = KpiCalculator.Compute(expectedState);
        var queries = new KpiQueries(dynamoDb, aws.Topology);
        Assert.Equal(expected.OrderKpis, await queries.GetDaysAsync(day, day, CancellationToken.None));
        var categories = await queries.GetCategoriesOnDayAsync(day, CancellationToken.None);
        Assert.Equal(expected.CategoryKpis, categories.OrderBy(r => r.Category, StringComparer.Ordinal));
    }

    /// <summary>Prints the day's largest state item and asserts it is far under DynamoDB's limit.</summary>
    private void Report(List<Dictionary<string, AttributeValue>> items, string what)
    {
        var largest = items.MaxBy(DynamoItemSize.Of)!;
        var size = DynamoItemSize.Of(largest);
        output.WriteLine(
            $"{what}: {items.Count} state items, the largest {largest["part"].S} of {size:N0} bytes ({size * 100.0 / DynamoItemSize.Limit:F0} % of 400 KB)");
        Assert.True(size < DynamoItemSize.Limit * 3 / 4, $"{largest["part"].S} has {size} bytes");
    }
}
