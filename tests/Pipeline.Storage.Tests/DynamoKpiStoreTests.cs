using System.Globalization;
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

    /// <summary>Slots that hold one batch each: the second batch of a day makes the root full and goes to a child slot.</summary>
    private static readonly KpiStateLimits OneBatchSlots = new() { SlotBookkeepingBytes = 40, Fanout = 4 };

    private DynamoKpiStore Store(IAmazonDynamoDB dynamoDb, KpiStateLimits? limits = null) => new(dynamoDb, aws.Topology, TimeProvider.System, limits);

    private KpiQueries Queries(IAmazonDynamoDB dynamoDb) => new(dynamoDb, aws.Topology);

    [Fact]
    public async Task Two_batches_on_the_same_days_give_the_kpis_of_their_union()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var store = Store(dynamoDb);
        var first = new DateOnly(2031, 1, 1);
        var a = RandomBatch(seed: 1, first, days: 5, customers: 300);
        var b = RandomBatch(seed: 2, first.AddDays(2), days: 5, customers: 300);

        await store.AddBatchAsync("batch-a", 1, a, CancellationToken.None);
        var update = await store.AddBatchAsync("batch-b", 1, b, CancellationToken.None);

        Assert.Equal(Enumerable.Range(2, 5).Select(first.AddDays), update.Days);
        Assert.Equal(1, update.AppliedVersion);
        await AssertStoredEqual(Queries(dynamoDb), KpiPartial.Merge(a, b), first, first.AddDays(6));

        // Independently of the engine's arithmetic: revenue adds up and customers are a true distinct count.
        var day = first.AddDays(3);
        var row = (await Queries(dynamoDb).GetDayAsync(day, CancellationToken.None))!;
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

        await store.AddBatchAsync("batch-replayed", 1, batch, CancellationToken.None);
        await store.AddBatchAsync("batch-replayed", 1, batch, CancellationToken.None);

        await AssertStoredEqual(Queries(dynamoDb), batch, first, first.AddDays(3));
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
            await Store(replica).AddBatchAsync($"concurrent-{i}", 1, batch, CancellationToken.None);
        }));

        await AssertStoredEqual(Queries(dynamoDb), KpiPartial.Merge(batches), first, first.AddDays(2));
    }

    [Theory]
    [InlineData(0.005)] // among the first contribution writes
    [InlineData(0.5)]   // half way through folding the days
    [InlineData(0.95)]  // while writing the last KPI rows
    [InlineData(0.5, true)] // the same, into days whose root slot it makes full (it goes to a child slot)
    [InlineData(0.95, true)]
    public async Task A_crash_part_way_through_is_repaired_by_the_redelivery(double crashAt, bool split = false)
    {
        var first = new DateOnly(2034, 1, 1).AddDays((int)(crashAt * 1000) * 50 + (split ? 100 : 0));
        var limits = split ? OneBatchSlots : null;
        var name = split ? $"split-{crashAt}" : $"{crashAt}";
        var earlier = RandomBatch(seed: 20, first, days: 40, customers: 250);
        var crashing = RandomBatch(seed: 21, first, days: 40, customers: 250);
        using var dynamoDb = aws.CreateDynamoDb();
        await Store(dynamoDb, limits).AddBatchAsync($"before-crash-{name}", 1, earlier, CancellationToken.None);

        // How many requests the whole batch takes, measured on the same batch shifted to days of its own.
        var counter = new FailingAfter(int.MaxValue);
        using (var counting = aws.CreateDynamoDb(config => config.HttpClientFactory = counter))
        {
            await Store(counting, limits).AddBatchAsync(
                $"counting-{name}", 1, RandomBatch(seed: 21, first.AddDays(10_000), days: 40, customers: 250), CancellationToken.None);
        }

        // The process dies after part of its writes have landed (the connection drops mid-batch).
        using (var dying = aws.CreateDynamoDb(config =>
               {
                   config.HttpClientFactory = new FailingAfter(Math.Max(1, (int)(counter.Sent * crashAt)));
                   config.MaxErrorRetry = 0;
               }))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => Store(dying, limits).AddBatchAsync($"crashed-{name}", 1, crashing, CancellationToken.None));
        }

        await Store(dynamoDb, limits).AddBatchAsync($"crashed-{name}", 1, crashing, CancellationToken.None); // the redelivery

        await AssertStoredEqual(Queries(dynamoDb), KpiPartial.Merge(earlier, crashing), first, first.AddDays(39));
        if (split)
        {
            var state = await Queries(dynamoDb).GetDayStateItemsAsync(first, CancellationToken.None);
            Assert.Contains(state, item => item["part"].S.StartsWith("totals@", StringComparison.Ordinal)); // the crashed batch went to a child slot
        }
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

        await store.AddBatchAsync("many-customers-a", 1, Batch(1, 45_000), CancellationToken.None);
        await store.AddBatchAsync("many-customers-b", 1, Batch(30_001, 30_000), CancellationToken.None);

        var row = (await Queries(dynamoDb).GetDayAsync(day, CancellationToken.None))!;
        Assert.Equal(60_000, row.UniqueCustomers);
        Assert.Equal(75_000, row.TotalOrders);
        Assert.Equal(750_000m, row.TotalRevenue);
    }

    [Fact]
    public async Task A_new_version_of_a_batch_replaces_the_old_one_exactly_customers_included()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var store = Store(dynamoDb);
        var first = new DateOnly(2037, 1, 1);
        var oldA = RandomBatch(seed: 40, first, days: 6, customers: 120);
        var other = RandomBatch(seed: 41, first.AddDays(2), days: 6, customers: 120);
        var newA = RandomBatch(seed: 42, first.AddDays(1), days: 3, customers: 120);

        await store.AddBatchAsync("replaced-a", 1, oldA, CancellationToken.None);
        await store.AddBatchAsync("replaced-other", 1, other, CancellationToken.None);
        var fold = await store.AddBatchAsync("replaced-a", 2, newA, CancellationToken.None);

        Assert.Equal(2, fold.AppliedVersion);
        Assert.Equal(Enumerable.Range(0, 6).Select(first.AddDays), fold.Days); // every day either version touches
        await AssertStoredEqual(Queries(dynamoDb), KpiPartial.Merge(newA, other), first, first.AddDays(8));
        // Days only the old version had are gone, not left at zero.
        Assert.Null(await Queries(dynamoDb).GetDayAsync(first, CancellationToken.None));
        Assert.Empty(await Queries(dynamoDb).GetCategoriesOnDayAsync(first, CancellationToken.None));
    }

    [Fact]
    public async Task A_retraction_takes_the_batch_out_exactly_and_an_older_version_arriving_late_changes_nothing()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var store = Store(dynamoDb);
        var first = new DateOnly(2038, 1, 1);
        var a = RandomBatch(seed: 50, first, days: 5, customers: 90);
        var b = RandomBatch(seed: 51, first, days: 5, customers: 90);
        await store.AddBatchAsync("retracted-a", 1, a, CancellationToken.None);
        await store.AddBatchAsync("retracted-b", 1, b, CancellationToken.None);

        var fold = await store.RetractAsync("retracted-a", 2, CancellationToken.None);
        await store.RetractAsync("retracted-a", 2, CancellationToken.None); // asked twice
        await store.AddBatchAsync("retracted-a", 1, a, CancellationToken.None); // a stale redelivery of the first version

        Assert.Equal(2, fold.AppliedVersion);
        await AssertStoredEqual(Queries(dynamoDb), b, first, first.AddDays(4));
    }

    [Fact]
    public async Task A_replacement_a_retraction_and_new_batches_on_the_same_days_in_concurrent_replicas_end_exact()
    {
        var first = new DateOnly(2039, 1, 1);
        var replaced = RandomBatch(seed: 60, first, days: 4, customers: 80);
        var retracted = RandomBatch(seed: 61, first, days: 4, customers: 80);
        using (var dynamoDb = aws.CreateDynamoDb())
        {
            await Store(dynamoDb).AddBatchAsync("race-replaced", 1, replaced, CancellationToken.None);
            await Store(dynamoDb).AddBatchAsync("race-retracted", 1, retracted, CancellationToken.None);
        }
        var replacement = RandomBatch(seed: 62, first.AddDays(1), days: 4, customers: 80);
        var newcomers = Enumerable.Range(63, 3).Select(seed => RandomBatch(seed, first, days: 4, customers: 80)).ToList();

        // Each as a separate Compute replica would do it, all at once.
        var work = new List<Func<DynamoKpiStore, Task>>
        {
            s => s.AddBatchAsync("race-replaced", 2, replacement, CancellationToken.None),
            s => s.RetractAsync("race-retracted", 2, CancellationToken.None),
        };
        work.AddRange(newcomers.Select((batch, i) => (Func<DynamoKpiStore, Task>)(s => s.AddBatchAsync($"race-new-{i}", 1, batch, CancellationToken.None))));
        await Task.WhenAll(work.Select(async run =>
        {
            using var replica = aws.CreateDynamoDb();
            await run(Store(replica));
        }));

        using var reader = aws.CreateDynamoDb();
        await AssertStoredEqual(Queries(reader), KpiPartial.Merge(newcomers.Append(replacement)), first, first.AddDays(4));
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public async Task A_crash_in_the_middle_of_a_replacement_is_repaired_by_the_redelivery(double crashAt)
    {
        var first = new DateOnly(2040, 1, 1).AddDays((int)(crashAt * 1000) * 50);
        var name = $"crash-replaced-{crashAt}";
        var oldVersion = RandomBatch(seed: 70, first, days: 12, customers: 150);
        var newVersion = RandomBatch(seed: 71, first.AddDays(3), days: 12, customers: 150);
        using var dynamoDb = aws.CreateDynamoDb();
        await Store(dynamoDb).AddBatchAsync(name, 1, oldVersion, CancellationToken.None);

        var counter = new FailingAfter(int.MaxValue);
        using (var counting = aws.CreateDynamoDb(config => config.HttpClientFactory = counter))
        {
            // The same versions on days of their own: how many requests a replacement takes.
            await Store(counting).AddBatchAsync(
                $"{name}-counting", 1, RandomBatch(seed: 70, first.AddDays(1_000), days: 12, customers: 150), CancellationToken.None);
            await Store(counting).AddBatchAsync(
                $"{name}-counting", 2, RandomBatch(seed: 71, first.AddDays(1_003), days: 12, customers: 150), CancellationToken.None);
        }
        using (var dying = aws.CreateDynamoDb(config =>
               {
                   config.HttpClientFactory = new FailingAfter(Math.Max(1, (int)(counter.Sent / 2 * crashAt)));
                   config.MaxErrorRetry = 0;
               }))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => Store(dying).AddBatchAsync(name, 2, newVersion, CancellationToken.None));
        }

        await Store(dynamoDb).AddBatchAsync(name, 2, newVersion, CancellationToken.None); // the redelivery

        await AssertStoredEqual(Queries(dynamoDb), newVersion, first, first.AddDays(15));
    }

    [Fact]
    public async Task Any_sequence_of_uploads_replacements_retractions_and_redeliveries_ends_with_the_kpis_of_the_versions_in_force()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var store = Store(dynamoDb);
        var first = new DateOnly(2041, 1, 1);
        var random = new Random(20261128);
        var names = Enumerable.Range(0, 5).Select(i => $"sequence-{i}").ToArray();
        var versions = names.ToDictionary(n => n, _ => 0);
        var inForce = new Dictionary<string, KpiPartial>();
        var written = new List<(string Name, int Version, KpiPartial? Data)>();
        for (var step = 0; step < 40; step++)
        {
            var name = names[random.Next(names.Length)];
            switch (random.Next(10))
            {
                case < 6: // an upload: a new batch, or a new version of one
                    var data = RandomBatch(random.Next(), first.AddDays(random.Next(4)), days: random.Next(1, 5), customers: 60);
                    var version = ++versions[name];
                    await store.AddBatchAsync(name, version, data, CancellationToken.None);
                    inForce[name] = data;
                    written.Add((name, version, data));
                    break;
                case < 8 when inForce.ContainsKey(name): // a retraction
                    var retraction = ++versions[name];
                    await store.RetractAsync(name, retraction, CancellationToken.None);
                    inForce.Remove(name);
                    written.Add((name, retraction, null));
                    break;
                default: // a redelivery of something done before
                    if (written.Count > 0)
                    {
                        var (again, againVersion, againData) = written[random.Next(written.Count)];
                        await (againData is null
                            ? store.RetractAsync(again, againVersion, CancellationToken.None)
                            : store.AddBatchAsync(again, againVersion, againData, CancellationToken.None));
                    }
                    break;
            }
        }

        await AssertStoredEqual(Queries(dynamoDb), KpiPartial.Merge(inForce.Values), first, first.AddDays(8));
    }

    [Fact]
    public async Task Kpis_read_back_by_category_and_date_range()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var store = Store(dynamoDb);
        var first = new DateOnly(2035, 3, 1);
        var batch = RandomBatch(seed: 30, first, days: 10, customers: 100);
        await store.AddBatchAsync("ranges", 1, batch, CancellationToken.None);

        var rows = await Queries(dynamoDb).GetCategoryAsync("Electronics", first.AddDays(2), first.AddDays(4), CancellationToken.None);

        var expected = KpiCalculator.Compute(batch).CategoryKpis
            .Where(r => r.Category == "Electronics" && r.OrderDate >= first.AddDays(2) && r.OrderDate <= first.AddDays(4));
        Assert.Equal(expected, rows);
        Assert.NotEmpty(rows);
    }

    [Fact]
    public async Task A_long_range_reads_back_by_day_and_by_category_and_rows_taken_out_stay_invisible()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var store = Store(dynamoDb);
        var first = new DateOnly(2050, 1, 1); // a year no other test of the class writes
        // 250 days: three BatchGetItem requests (100, 100, 50 keys).
        var kept = RandomBatch(seed: 40, first, days: 250, customers: 400);
        var retracted = RandomBatch(seed: 41, first.AddDays(260), days: 3, customers: 50);
        await store.AddBatchAsync("long-range", 1, kept, CancellationToken.None);
        await store.AddBatchAsync("long-range-retracted", 1, retracted, CancellationToken.None);
        await store.RetractAsync("long-range-retracted", 2, CancellationToken.None);

        var days = await Queries(dynamoDb).GetDaysAsync(first, first.AddDays(270), CancellationToken.None);
        var named = await Queries(dynamoDb).ListCategoriesAsync(CancellationToken.None);
        var categories = await Queries(dynamoDb).GetCategoriesAsync(named, first, first.AddDays(270), CancellationToken.None);

        var expected = KpiCalculator.Compute(kept);
        Assert.Equal(expected.OrderKpis, days);
        Assert.Equal(expected.CategoryKpis, categories);
        Assert.Superset(Categories.ToHashSet(), named.ToHashSet());
        Assert.Equal(named.Order(StringComparer.Ordinal), named);
        var listed = await Queries(dynamoDb).ListDaysAsync(CancellationToken.None);
        Assert.Superset(days.Select(d => d.OrderDate).ToHashSet(), listed.ToHashSet());
        Assert.DoesNotContain(listed, d => d >= first.AddDays(260) && d < first.AddDays(263));
        Assert.Equal(listed.Order(), listed);
    }

    private async Task AssertStoredEqual(KpiQueries queries, KpiPartial expectedState, DateOnly from, DateOnly to)
    {
        var expected = KpiCalculator.Compute(expectedState);
        Assert.Equal(expected.OrderKpis, await queries.GetDaysAsync(from, to, CancellationToken.None));

        var stored = new List<CategoryKpiRow>();
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            stored.AddRange(await queries.GetCategoriesOnDayAsync(day, CancellationToken.None));
        }
        Assert.Equal(expected.CategoryKpis, stored.OrderBy(r => r.Category, StringComparer.Ordinal).ThenBy(r => r.OrderDate));

        // Each order row also holds its categories' daily revenue (what the anomaly check reads), exactly as their rows do.
        using var dynamoDb = aws.CreateDynamoDb();
        foreach (var row in expected.OrderKpis)
        {
            var item = (await dynamoDb.GetItemAsync(aws.Topology.OrderKpisTable.Name,
                new() { ["order_date"] = new(row.OrderDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) }, consistentRead: true)).Item;
            Assert.Equal(
                expected.CategoryKpis.Where(c => c.OrderDate == row.OrderDate).ToDictionary(c => c.Category, c => c.DailyRevenue),
                item["category_revenue"].M.ToDictionary(c => c.Key, c => decimal.Parse(c.Value.N, NumberStyles.Float, CultureInfo.InvariantCulture)));
        }
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
