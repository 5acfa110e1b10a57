using System.Net;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Kpis;

namespace Pipeline.Storage.Tests;

/// <summary>
/// The failure windows of a fold that writes its KPI rows unconditionally and checks them after (docs/kpi-storage.md): a
/// row write computed before another fold and landing after it, a process that dies between its row write and its check,
/// and days whose customers fall on several pages that concurrent folds place at once.
/// </summary>
public class KpiFoldRaceTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private DynamoKpiStore Store(IAmazonDynamoDB dynamoDb) => new(dynamoDb, aws.Topology, TimeProvider.System);

    [Fact]
    public async Task Rows_computed_before_a_newer_fold_and_written_after_it_are_written_again_from_the_newer_state()
    {
        var first = new DateOnly(2061, 1, 1);
        var slow = Batch(seed: 1, first, days: 4, pages: [0]);
        var fast = Batch(seed: 2, first.AddDays(1), days: 4, pages: [0]);
        using var dynamoDb = aws.CreateDynamoDb();
        await Store(dynamoDb).WriteContributionAsync("stale-rows-slow", 1, slow, CancellationToken.None);

        // The slow fold's state writes land; its first row write (its only batch write) is held until the fast fold has finished.
        var gate = new RowWriteGate(failAfterRelease: false);
        using var held = aws.CreateDynamoDb(config => config.HttpClientFactory = gate);
        var folding = Store(held).FoldAsync("stale-rows-slow", CancellationToken.None);
        await gate.Reached.WaitAsync(Patience);
        await Store(dynamoDb).AddBatchAsync("stale-rows-fast", 1, fast, CancellationToken.None);
        gate.Release();
        await folding.WaitAsync(Patience);

        await AssertRowsAsync(dynamoDb, KpiPartial.Merge(slow, fast), first, first.AddDays(5));
        Assert.True(gate.RowWrites > 1, $"the held fold wrote its rows {gate.RowWrites} time(s): it should have written them again");
    }

    [Fact]
    public async Task A_fold_that_dies_after_writing_rows_from_an_older_state_leaves_them_until_its_redelivery_repairs_them()
    {
        var first = new DateOnly(2062, 1, 1);
        var dying = Batch(seed: 3, first, days: 3, pages: [0]);
        var newer = Batch(seed: 4, first, days: 3, pages: [0]);
        using var dynamoDb = aws.CreateDynamoDb();
        await Store(dynamoDb).WriteContributionAsync("dies-after-rows", 1, dying, CancellationToken.None);

        // Its rows are held until a newer fold of the same days has finished, then land; the process dies before it checks them.
        var gate = new RowWriteGate(failAfterRelease: true);
        using (var held = aws.CreateDynamoDb(config =>
               {
                   config.HttpClientFactory = gate;
                   config.MaxErrorRetry = 0;
               }))
        {
            var folding = Store(held).FoldAsync("dies-after-rows", CancellationToken.None);
            await gate.Reached.WaitAsync(Patience);
            await Store(dynamoDb).AddBatchAsync("dies-after-rows-newer", 1, newer, CancellationToken.None);
            gate.Release();
            await Assert.ThrowsAnyAsync<Exception>(() => folding.WaitAsync(Patience));
        }
        var expected = KpiCalculator.Compute(KpiPartial.Merge(dying, newer));
        Assert.NotEqual(expected.OrderKpis, await new KpiQueries(dynamoDb, aws.Topology).GetDaysAsync(first, first.AddDays(2), CancellationToken.None));

        await Store(dynamoDb).FoldAsync("dies-after-rows", CancellationToken.None); // the redelivery

        await AssertRowsAsync(dynamoDb, KpiPartial.Merge(dying, newer), first, first.AddDays(2));
    }

    [Fact]
    public async Task Batches_with_customers_on_different_pages_of_the_same_days_folded_at_once_count_each_customer_once()
    {
        var first = new DateOnly(2063, 1, 1);
        // Customers on pages of 65,536 ids: which page a day keeps in its own item is decided by whichever fold comes first.
        long[][] pages = [[0], [1], [0, 2], [3, 1], [2]];
        var batches = pages.Select((p, i) => Batch(seed: 10 + i, first, days: 3, pages: p)).ToList();

        await Task.WhenAll(batches.Select(async (batch, i) =>
        {
            using var replica = aws.CreateDynamoDb();
            await Store(replica).AddBatchAsync($"pages-{i}", 1, batch, CancellationToken.None);
        }));
        using var dynamoDb = aws.CreateDynamoDb();
        await AssertRowsAsync(dynamoDb, KpiPartial.Merge(batches), first, first.AddDays(2));

        // A replacement onto other pages and a retraction, at once.
        var replacement = Batch(seed: 20, first.AddDays(1), days: 3, pages: [4, 0]);
        await Task.WhenAll(
            Task.Run(async () =>
            {
                using var replica = aws.CreateDynamoDb();
                await Store(replica).AddBatchAsync("pages-1", 2, replacement, CancellationToken.None);
            }),
            Task.Run(async () =>
            {
                using var replica = aws.CreateDynamoDb();
                await Store(replica).RetractAsync("pages-2", 2, CancellationToken.None);
            }));
        await AssertRowsAsync(dynamoDb, KpiPartial.Merge(batches[0], replacement, batches[3], batches[4]), first, first.AddDays(3));
    }

    [Fact]
    public async Task Folds_of_the_same_days_in_one_process_wait_for_each_other_instead_of_racing_and_end_exact()
    {
        var first = new DateOnly(2064, 1, 1);
        var batches = Enumerable.Range(30, 8).Select(seed => Batch(seed, first, days: 10, pages: [0])).ToList();
        var conflicts = new ConflictCounter();
        using var dynamoDb = aws.CreateDynamoDb(config => config.HttpClientFactory = conflicts);
        var store = Store(dynamoDb);

        // One store, as one Compute instance folding several messages at once.
        await Task.WhenAll(batches.Select((batch, i) => Task.Run(() => store.AddBatchAsync($"one-process-{i}", 1, batch, CancellationToken.None))));

        await AssertRowsAsync(dynamoDb, KpiPartial.Merge(batches), first, first.AddDays(9));
        Assert.Equal(0, conflicts.Count);
    }

    /// <summary>The stored rows of [from, to], as the dashboard reads them, are the engine's KPIs of <paramref name="expected"/>.</summary>
    private async Task AssertRowsAsync(IAmazonDynamoDB dynamoDb, KpiPartial expected, DateOnly from, DateOnly to)
    {
        var queries = new KpiQueries(dynamoDb, aws.Topology);
        var kpis = KpiCalculator.Compute(expected);
        Assert.Equal(kpis.OrderKpis, await queries.GetDaysAsync(from, to, CancellationToken.None));
        var categories = await queries.GetCategoriesAsync(await queries.ListCategoriesAsync(CancellationToken.None), from, to, CancellationToken.None);
        Assert.Equal(kpis.CategoryKpis, categories);
    }

    /// <summary>A batch on <paramref name="days"/> days from <paramref name="first"/>, its customers a few of each of <paramref name="pages"/>.</summary>
    private static KpiPartial Batch(int seed, DateOnly first, int days, long[] pages)
    {
        var random = new Random(seed);
        var categoryDays = new List<CategoryDayContribution>();
        var dayContributions = new List<DayContribution>();
        for (var d = 0; d < days; d++)
        {
            var day = first.AddDays(d);
            foreach (var category in new[] { "Race Books", "Race Toys" })
            {
                var items = random.Next(1, 30);
                categoryDays.Add(new CategoryDayContribution(category, day, random.Next(100, 90_000) / 100m, items, random.Next(0, items / 4 + 1)));
            }
            var customers = pages.SelectMany(page => Enumerable.Range(0, random.Next(1, 40)).Select(_ => (page << 16) + random.Next(0, 60)))
                .Distinct().ToList();
            var orders = customers.Count + random.Next(0, 10);
            dayContributions.Add(new DayContribution(day, orders, orders + random.Next(0, 20), random.Next(0, orders / 5 + 1), customers));
        }
        return KpiPartial.Merge(new KpiPartial(categoryDays, dayContributions));
    }

    /// <summary>
    /// An HTTP stack that holds the first BatchWriteItem (a fold's first row write, when its contribution was written
    /// before) until released; with <c>failAfterRelease</c>, every request after that write fails, like a process that dies.
    /// </summary>
    private sealed class RowWriteGate(bool failAfterRelease) : HttpClientFactory
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly bool _failAfterRelease = failAfterRelease;
        private int _rowWrites;
        private volatile bool _dead;

        public Task Reached => _reached.Task;

        public int RowWrites => _rowWrites;

        public void Release() => _released.TrySetResult();

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Handler(this));

        private sealed class Handler(RowWriteGate gate) : DelegatingHandler(new SocketsHttpHandler())
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (gate._dead)
                {
                    throw new HttpRequestException("connection lost", null, HttpStatusCode.ServiceUnavailable);
                }
                var target = request.Headers.TryGetValues("X-Amz-Target", out var values) ? values.First() : "";
                if (!target.EndsWith(".BatchWriteItem", StringComparison.Ordinal))
                {
                    return await base.SendAsync(request, cancellationToken);
                }
                if (Interlocked.Increment(ref gate._rowWrites) == 1)
                {
                    gate._reached.TrySetResult();
                    await gate._released.Task.WaitAsync(cancellationToken);
                    var response = await base.SendAsync(request, cancellationToken);
                    gate._dead = gate._failAfterRelease;
                    return response;
                }
                return await base.SendAsync(request, cancellationToken);
            }
        }
    }

    /// <summary>An HTTP stack that counts DynamoDB's answers that a conditional write lost (ConditionalCheckFailedException).</summary>
    private sealed class ConflictCounter : HttpClientFactory
    {
        private int _count;

        public int Count => _count;

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Handler(this));

        private sealed class Handler(ConflictCounter counter) : DelegatingHandler(new SocketsHttpHandler())
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var response = await base.SendAsync(request, cancellationToken);
                if (response.StatusCode == HttpStatusCode.BadRequest)
                {
                    await response.Content.LoadIntoBufferAsync(cancellationToken);
                    if ((await response.Content.ReadAsStringAsync(cancellationToken)).Contains("ConditionalCheckFailed", StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref counter._count);
                    }
                }
                return response;
            }
        }
    }
}
