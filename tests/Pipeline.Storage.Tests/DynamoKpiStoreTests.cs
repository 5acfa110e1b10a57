using System.Net;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Kpis;

namespace Pipeline.Storage.Tests;

/// <summary>The KPI tables in DynamoDB (dynalite over HTTP) stay exact across batches, replays, crashes and concurrency.</summary>
public class DynamoKpiStoreTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>
{
    private static readonly string[] Categories = ["Accessories", "Electronics", "Jeans", "Outerwear & Coats", "Sleep & Lounge"];

    private DynamoKpiStore Store(IAmazonDynamoDB dynamoDb) => new(dynamoDb, aws.Topology, TimeProvider.System);

    [Fact]
    public async Task Two_batches_on_the_same_days_give_the_kpis_of_their_union()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var store = Store(dynamoDb);
        var first = new DateOnly(2031, 1, 1);
        var a = RandomBatch(seed: 1, first, days: 5, customers: 300);
        var b = RandomBatch(seed: 2, first.AddDays(2), days: 5, customers: 300);

        await store.AddBatchAsync("batch-a", a, CancellationToken.None);
        var update = await store.AddBatchAsync("batch-b", b, CancellationToken.None);

        Assert.Equal(Enumerable.Range(2, 5).Select(first.AddDays), update.Days);
        await AssertStoredEqual(store, KpiPartial.Merge(a, b), first, first.AddDays(6));

        // Independently of the engine's arithmetic: revenue adds up and customers are a true distinct count.
        var day = first.AddDays(3);
        var row = (await store.GetDayAsync(day, CancellationToken.None))!;
        Assert.Equal(a.CategoryDays.Concat(b.CategoryDays).Where(c => c.OrderDate == day).Sum(c => c.Revenue), row.TotalRevenue);
        Assert.Equal(a.Days.Concat(b.Days).Where(d => d.OrderDate == day).SelectMany(d => d.CustomerIds).Distinct().Count(), row.UniqueCustomers);
    }

    [Fact]
    public async Task Adding_the_same_batch_again_changes_nothing()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var store = Store(dynamoDb);
        var first = new DateOnly(2032, 1, 1);
        var batch = RandomBatch(seed: 3, first, days: 4, customers: 200);

        await store.AddBatchAsync("batch-replayed", batch, CancellationToken.None);
        await store.AddBatchAsync("batch-replayed", batch, CancellationToken.None);

        await AssertStoredEqual(store, batch, first, first.AddDays(3));
    }

    [Fact]
    public async Task Concurrent_batches_touching_the_same_days_end_exact()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var first = new DateOnly(2033, 1, 1);
        var batches = Enumerable.Range(10, 4).Select(seed => RandomBatch(seed, first, days: 3, customers: 150)).ToList();

        // Separate stores (and clients), as two Compute replicas would be.
        await Task.WhenAll(batches.Select(async (batch, i) =>
        {
            using var replica = aws.CreateDynamoDb();
            await Store(replica).AddBatchAsync($"concurrent-{i}", batch, CancellationToken.None);
        }));

        await AssertStoredEqual(Store(dynamoDb), KpiPartial.Merge(batches), first, first.AddDays(2));
    }

    [Theory]
    [InlineData(0.005)] // after the first of the two contribution writes (40 days: 2 batches of 25 items)
    [InlineData(0.5)]   // half way through recomputing the days
    [InlineData(0.95)]  // while writing the last KPI rows
    public async Task A_crash_part_way_through_is_repaired_by_the_redelivery(double crashAt)
    {
        var first = new DateOnly(2034, 1, 1).AddDays((int)(crashAt * 1000) * 50);
        var earlier = RandomBatch(seed: 20, first, days: 40, customers: 250);
        var crashing = RandomBatch(seed: 21, first, days: 40, customers: 250);
        using var dynamoDb = aws.CreateDynamoDb();
        await Store(dynamoDb).AddBatchAsync("before-crash", earlier, CancellationToken.None);

        // How many requests the whole batch takes, measured on the same batch shifted to days of its own.
        var counter = new FailingAfter(int.MaxValue);
        using (var counting = aws.CreateDynamoDb(config => config.HttpClientFactory = counter))
        {
            await Store(counting).AddBatchAsync("counting", RandomBatch(seed: 21, first.AddDays(10_000), days: 40, customers: 250), CancellationToken.None);
        }

        // The process dies after part of its writes have landed (the connection drops mid-batch).
        using (var dying = aws.CreateDynamoDb(config =>
               {
                   config.HttpClientFactory = new FailingAfter(Math.Max(1, (int)(counter.Sent * crashAt)));
                   config.MaxErrorRetry = 0;
               }))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => Store(dying).AddBatchAsync("crashed", crashing, CancellationToken.None));
        }

        await Store(dynamoDb).AddBatchAsync("crashed", crashing, CancellationToken.None); // the redelivery

        await AssertStoredEqual(Store(dynamoDb), KpiPartial.Merge(earlier, crashing), first, first.AddDays(39));
    }

    [Fact]
    public async Task A_day_with_more_customers_than_one_item_holds_still_counts_each_customer_once()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var store = Store(dynamoDb);
        var day = new DateOnly(2036, 7, 1);
        // 45,000 and 30,000 customers, 15,000 of them in both batches: three and two items of customers.
        KpiPartial Batch(int from, int count) => new(
            [new CategoryDayContribution("Jeans", day, count * 10m, count, 0)],
            [new DayContribution(day, count, count, 0, Enumerable.Range(from, count).Select(id => (long)id).ToList())]);

        await store.AddBatchAsync("many-customers-a", Batch(1, 45_000), CancellationToken.None);
        await store.AddBatchAsync("many-customers-b", Batch(30_001, 30_000), CancellationToken.None);

        var row = (await store.GetDayAsync(day, CancellationToken.None))!;
        Assert.Equal(60_000, row.UniqueCustomers);
        Assert.Equal(75_000, row.TotalOrders);
        Assert.Equal(750_000m, row.TotalRevenue);
    }

    [Fact]
    public async Task Kpis_read_back_by_category_and_date_range()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var store = Store(dynamoDb);
        var first = new DateOnly(2035, 3, 1);
        var batch = RandomBatch(seed: 30, first, days: 10, customers: 100);
        await store.AddBatchAsync("ranges", batch, CancellationToken.None);

        var rows = await store.GetCategoryAsync("Electronics", first.AddDays(2), first.AddDays(4), CancellationToken.None);

        var expected = KpiCalculator.Compute(batch).CategoryKpis
            .Where(r => r.Category == "Electronics" && r.OrderDate >= first.AddDays(2) && r.OrderDate <= first.AddDays(4));
        Assert.Equal(expected, rows);
        Assert.NotEmpty(rows);
    }

    private static async Task AssertStoredEqual(DynamoKpiStore store, KpiPartial expectedState, DateOnly from, DateOnly to)
    {
        var expected = KpiCalculator.Compute(expectedState);
        Assert.Equal(expected.OrderKpis, await store.GetDaysAsync(from, to, CancellationToken.None));

        var stored = new List<CategoryKpiRow>();
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            stored.AddRange(await store.GetCategoriesOnDayAsync(day, CancellationToken.None));
        }
        Assert.Equal(expected.CategoryKpis, stored.OrderBy(r => r.Category, StringComparer.Ordinal).ThenBy(r => r.OrderDate));
    }

    /// <summary>A batch's KPI state with prices in cents, a share of returns and customers drawn from a shared pool.</summary>
    private static KpiPartial RandomBatch(int seed, DateOnly first, int days, int customers)
    {
        var random = new Random(seed);
        var categoryDays = new List<CategoryDayContribution>();
        var dayContributions = new List<DayContribution>();
        for (var d = 0; d < days; d++)
        {
            var date = first.AddDays(d);
            foreach (var category in Categories.Where(_ => random.Next(4) > 0))
            {
                var items = random.Next(1, 40);
                var revenue = Enumerable.Range(0, items).Sum(_ => random.Next(100, 30000) / 100m);
                categoryDays.Add(new CategoryDayContribution(category, date, revenue, items, random.Next(0, items / 3 + 1)));
            }
            var orders = random.Next(1, 60);
            var ids = Enumerable.Range(0, random.Next(1, 80)).Select(_ => (long)random.Next(1, customers)).Distinct().Order().ToList();
            dayContributions.Add(new DayContribution(date, orders, orders + random.Next(0, 40), random.Next(0, orders / 4 + 1), ids));
        }
        return KpiPartial.Merge(new KpiPartial(categoryDays, dayContributions));
    }

    /// <summary>An HTTP stack that counts requests and drops the connection after a number of them, like a process that dies.</summary>
    private sealed class FailingAfter(int requests) : HttpClientFactory
    {
        private readonly int _limit = requests;
        private int _sent;

        public int Sent => _sent;

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Handler(this));

        private sealed class Handler(FailingAfter owner) : DelegatingHandler(new SocketsHttpHandler())
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
                Interlocked.Increment(ref owner._sent) > owner._limit
                    ? throw new HttpRequestException("connection lost", null, HttpStatusCode.ServiceUnavailable)
                    : base.SendAsync(request, cancellationToken);
        }
    }
}
