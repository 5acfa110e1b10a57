using Pipeline.Engine.Batches;
using Pipeline.Engine.DataQuality;
using Pipeline.Engine.Generation;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.DataQuality;
using Pipeline.Storage.Kpis;

namespace Pipeline.Storage.Tests;

/// <summary>The anomaly check on folded KPIs (dynalite over HTTP): opened by the version that made it, cleared by the one that undid it.</summary>
public class AnomalyStoreTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>
{
    private static readonly AnomalyOptions Options = new();

    [Fact]
    public async Task Half_a_days_orders_opens_total_orders_once_and_a_corrected_version_clears_it()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var kpis = new DynamoKpiStore(dynamoDb, aws.Topology, TimeProvider.System);
        var anomalies = new AnomalyStore(dynamoDb, aws.Topology, TimeProvider.System);
        var day = new DateOnly(2014, 6, 2); // a Monday
        var history = await kpis.AddBatchAsync("anomaly-store-history", 1, Partial(400 * 34, day.AddDays(-35), 34, seed: 80), CancellationToken.None);
        await anomalies.CheckAsync(history.Days, "anomaly-store-history", 1, Options, CancellationToken.None);

        var halfData = Partial(200, day, 1, seed: 81);
        var half = await kpis.AddBatchAsync("anomaly-store-day", 1, halfData, CancellationToken.None);
        var opened = await anomalies.CheckAsync(half.Days, "anomaly-store-day", 1, Options, CancellationToken.None);

        var orders = Assert.Single(opened, a => a.Key == new FigureKey(day, KpiFigure.TotalOrders));
        Assert.True(orders.Open);
        Assert.Equal(("anomaly-store-day", 1, 5), (orders.BatchId, orders.Version, orders.History));
        Assert.True(orders.Deviation < -Options.Threshold, $"deviation {orders.Deviation}");
        // A repeated delivery finds what it opened (to alert again under the same id), and changes nothing.
        Assert.Equal(opened, await anomalies.CheckAsync(half.Days, "anomaly-store-day", 1, Options, CancellationToken.None));
        // The items of its last orders put the next day in the KPIs without orders: not arrived, so not judged.
        Assert.DoesNotContain(opened, a => a.Key.Day != day);

        var full = await kpis.AddBatchAsync("anomaly-store-day", 2, Partial(400, day, 1, seed: 82), CancellationToken.None);
        Assert.DoesNotContain(await anomalies.CheckAsync(full.Days, "anomaly-store-day", 2, Options, CancellationToken.None),
            a => a.Key.Figure == KpiFigure.TotalOrders);
        Assert.DoesNotContain(await anomalies.ListOpenAsync(day, day, CancellationToken.None), a => a.Key.Figure == KpiFigure.TotalOrders);
    }

    [Fact]
    public async Task Checkers_racing_on_the_same_days_record_each_finding_once_and_a_redelivery_of_older_data_does_not_reopen_it()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        using var otherDynamoDb = aws.CreateDynamoDb();
        var kpis = new DynamoKpiStore(dynamoDb, aws.Topology, TimeProvider.System);
        var (one, other) = (new AnomalyStore(dynamoDb, aws.Topology, TimeProvider.System), new AnomalyStore(otherDynamoDb, aws.Topology, TimeProvider.System));
        var day = new DateOnly(2014, 9, 1); // a Monday
        await kpis.AddBatchAsync("anomaly-race-history", 1, Partial(400 * 34, day.AddDays(-35), 34, seed: 90), CancellationToken.None);
        var half = await kpis.AddBatchAsync("anomaly-race-day", 1, Partial(200, day, 1, seed: 91), CancellationToken.None);

        // Two Notifier copies with the same message: each reports what the version opened, recorded once.
        var both = await Task.WhenAll(
            one.CheckAsync(half.Days, "anomaly-race-day", 1, Options, CancellationToken.None),
            other.CheckAsync(half.Days, "anomaly-race-day", 1, Options, CancellationToken.None));
        Assert.Equal(both[0], both[1]);
        Assert.Contains(both[0], a => a.Key == new FigureKey(day, KpiFigure.TotalOrders));
        Assert.Equal(both[0], await one.ListOpenAsync(day, day, CancellationToken.None));

        // The corrected version's check, racing a repeated delivery of the first version's: both judge the day as it is now.
        var full = await kpis.AddBatchAsync("anomaly-race-day", 2, Partial(400, day, 1, seed: 92), CancellationToken.None);
        var racing = await Task.WhenAll(
            one.CheckAsync(full.Days, "anomaly-race-day", 2, Options, CancellationToken.None),
            other.CheckAsync(half.Days, "anomaly-race-day", 1, Options, CancellationToken.None));
        Assert.DoesNotContain(racing[1], a => a.Key.Figure == KpiFigure.TotalOrders);
        Assert.DoesNotContain(await one.ListOpenAsync(day, day, CancellationToken.None), a => a.Key.Figure == KpiFigure.TotalOrders);
    }

    private static KpiPartial Partial(long orders, DateOnly firstDay, int days, ulong seed)
    {
        var folder = Directory.CreateTempSubdirectory("anomaly-store-").FullName;
        try
        {
            SyntheticBatchGenerator.Generate(folder, new GeneratorOptions(orders, Parts: 2, Seed: seed, Days: days, Products: 500) { FirstDay = firstDay });
            return new BatchProcessor().Process(LocalBatchFolder.Open(folder)).Kpis!;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
