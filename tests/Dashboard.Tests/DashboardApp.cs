using Pipeline.Contracts.Alerts;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Validation;

namespace Dashboard.Tests;

/// <summary>The API and browser tests share one running AppHost with the same two batches in it (one after the other).</summary>
[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardApp>
{
    public const string Name = "Dashboard on the AppHost";
}

/// <summary>
/// The real AppHost on the emulators (its own, so no other test's batches move the numbers), with the seed data
/// submitted as one batch and a batch that validation rejects; and, when Chromium is installed, one browser.
/// </summary>
public sealed class DashboardApp : IAsyncLifetime
{
    public const string SeedBatch = "seed";
    public const string RejectedBatch = "rejected";

    /// <summary>The seed data's days (or the generated stand-in's, on the same days).</summary>
    public static readonly DateOnly FirstDay = new(2025, 3, 8);

    public TracedEmulatorApp Host { get; } = new();

    public PipelineDriver Pipeline { get; private set; } = null!;

    /// <summary>The dashboard's HTTP endpoint (a random port under tests).</summary>
    public HttpClient Http { get; private set; } = null!;

    /// <summary>The engine's KPIs for the seed batch's files: what the dashboard must show.</summary>
    public KpiTables SeedKpis { get; private set; } = null!;

    /// <summary>The engine's report for the rejected batch's files, and the file it names.</summary>
    public ValidationReport RejectedReport { get; private set; } = null!;

    public BrowserSession? Browser { get; private set; }

    public async Task InitializeAsync()
    {
        await Host.StartAsync();
        Pipeline = new PipelineDriver(Host);
        Http = Host.App.CreateHttpClient("dashboard");

        // Without the seed data, 30 days of orders: their items reach into a 31st day, and all of it is in the default range.
        var seed = SeedData.Directory ?? PipelineDriver.Generate(9_000, FirstDay, seed: 1, days: 30);
        SeedKpis = PipelineDriver.EngineKpis(seed);
        var rejected = RejectedFolder();
        RejectedReport = new BatchProcessor().Process(LocalBatchFolder.Open(rejected)).Report;

        await Pipeline.SubmitAsync(seed, SeedBatch);
        await Pipeline.SubmitAsync(rejected, RejectedBatch);
        Assert.Equal(AlertStatus.Succeeded, (await Pipeline.NextAlertAsync(SeedBatch)).Status);
        Assert.Equal(AlertStatus.Rejected, (await Pipeline.NextAlertAsync(RejectedBatch)).Status);

        Browser = await BrowserSession.StartIfAvailableAsync();
    }

    /// <summary>A small batch on days of its own with one order item whose status is not a status.</summary>
    private static string RejectedFolder()
    {
        var folder = PipelineDriver.Generate(200, new DateOnly(2023, 6, 1), seed: 7, days: 3);
        var part = Directory.GetFiles(Path.Combine(folder, "order_items")).Order().First();
        var lines = File.ReadAllLines(part);
        foreach (var status in new[] { ",delivered,", ",returned,", ",shipped,", ",pending," })
        {
            lines[3] = lines[3].Replace(status, ",lost-in-transit,", StringComparison.Ordinal);
        }
        File.WriteAllLines(part, lines);
        return folder;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        Http?.Dispose();
        Pipeline?.Dispose();
        await Host.DisposeAsync();
    }
}
