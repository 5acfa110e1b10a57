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
        Assert.Contains(opened, a => a.Key == new FigureKey(day.AddDays(1), KpiFigure.TotalOrders));

        var full = await kpis.AddBatchAsync("anomaly-store-day", 2, Partial(400, day, 1, seed: 82), CancellationToken.None);
        Assert.DoesNotContain(await anomalies.CheckAsync(full.Days, "anomaly-store-day", 2, Options, CancellationToken.None),
            a => a.Key.Figure == KpiFigure.TotalOrders);
        Assert.DoesNotContain(await anomalies.ListOpenAsync(day, day, CancellationToken.None), a => a.Key.Figure == KpiFigure.TotalOrders);
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
