using Pipeline.Engine.Batches;
using Pipeline.Engine.Kpis;
using Services.Notifier.Alerts;

namespace AppHost.Tests;

/// <summary>Batches through the whole running system: S3 in, Validate, Transform, Compute, KPIs in DynamoDB, an alert out.</summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class PipelineEndToEndTests(EmulatorAppFixture app) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task The_seed_data_as_one_batch_gives_the_engines_kpis_and_a_succeeded_alert()
    {
        // The seed data when this checkout has it (with the old system's facts); otherwise generated data shaped like it.
        var folder = SeedData.Directory ?? PipelineDriver.Generate(9_000, new DateOnly(2025, 3, 8), seed: 1, days: 31);
        var expected = KpiCalculator.Compute(new BatchProcessor().Process(LocalBatchFolder.Open(folder)).Kpis!);

        await _pipeline.SubmitAsync(folder, "seed");
        var alert = await _pipeline.NextAlertAsync("seed");

        Assert.Equal(AlertStatus.Succeeded, alert.Status);
        var days = expected.OrderKpis.Select(r => r.OrderDate).ToList();
        Assert.Equal(expected.OrderKpis, await _pipeline.Kpis.GetDaysAsync(days.Min(), days.Max(), CancellationToken.None));
        foreach (var category in expected.CategoryKpis.Select(r => r.Category).Distinct())
        {
            Assert.Equal(expected.CategoryKpis.Where(r => r.Category == category), await _pipeline.Kpis.GetCategoryAsync(category, null, null, CancellationToken.None));
        }
        if (SeedData.Directory is not null)
        {
            var electronics = (await _pipeline.Kpis.GetCategoryAsync("Electronics", new DateOnly(2025, 3, 8), new DateOnly(2025, 3, 8), CancellationToken.None)).Single();
            Assert.Equal((9599.86m, 78.04764227642276, 18.69918699186992), (electronics.DailyRevenue, electronics.AvgOrderValue, electronics.AvgReturnRate));
            var day = (await _pipeline.Kpis.GetDayAsync(new DateOnly(2025, 3, 25), CancellationToken.None))!;
            Assert.Equal((342L, 999L, 79223.33m, 340L, 18.421052631578945), (day.TotalOrders, day.TotalItemsSold, day.TotalRevenue, day.UniqueCustomers, day.ReturnRate));
        }
        Assert.Contains("processed/seed/manifest_seed.json", await _pipeline.KeysUnderAsync("processed/seed/"));
        Assert.Empty(await _pipeline.KeysUnderAsync("data/seed/"));
    }
}

/// <summary>The original project's sample data, found by walking up from the test folder to <c>shared/seed-data</c>; null when absent.</summary>
internal static class SeedData
{
    public static string? Directory { get; } = Find();

    private static string? Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "shared", "seed-data");
            if (File.Exists(Path.Combine(candidate, "products.csv")))
            {
                return candidate;
            }
        }
        return null;
    }
}
