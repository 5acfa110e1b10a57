using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon.DynamoDBv2.Model;
using Pipeline.Cli.Commands;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Storage.Keys;
using Pipeline.Storage.Runs;
using ServiceDefaults.Aws;
using Xunit.Abstractions;

namespace AppHost.Tests;

/// <summary>
/// <c>pipeline smoke</c>, run in process against the running AppHost as the last step of a deploy runs it against a
/// stack: it passes and leaves every KPI, category and order id as it found them, and it fails saying why when the
/// pipeline rejects its batch or an alert is later than the timeout.
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed partial class SmokeCommandTests(EmulatorAppFixture app, ITestOutputHelper output) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);
    private readonly Amazon.DynamoDBv2.AmazonDynamoDBClient _dynamoDb = AwsClientFactory.CreateDynamoDb(app.Aws, app.Credentials);

    public void Dispose()
    {
        _pipeline.Dispose();
        _dynamoDb.Dispose();
    }

    [Fact]
    public async Task Smoke_passes_and_leaves_every_kpi_category_customer_and_order_id_as_it_found_them()
    {
        var kpisBefore = await VisibleKpiRowsAsync();
        var categoriesBefore = await _pipeline.Kpis.ListCategoriesAsync(CancellationToken.None);

        var run = await SmokeAsync();

        Assert.True(run.ExitCode == 0, run.Error);
        using var summary = JsonDocument.Parse(Assert.Single(run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        var (version, retraction) = (summary.RootElement.GetProperty("version").GetInt32(), summary.RootElement.GetProperty("retraction_version").GetInt32());
        Assert.Equal(SmokeBatch.Name, summary.RootElement.GetProperty("batch").GetString());
        Assert.Equal(SmokeBatch.OrderCount, summary.RootElement.GetProperty("orders").GetInt64());
        // Each step a line on stderr with its time.
        var steps = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(steps, step => Assert.Matches(StepLine(), step));
        Assert.Contains(steps, s => s.Contains($"version {version} succeeded", StringComparison.Ordinal)
            && s.EndsWith("its Succeeded alert was sent", StringComparison.Ordinal));
        Assert.Contains(steps, s => s.Contains("the KPIs read back equal the engine's", StringComparison.Ordinal));
        Assert.Contains(steps, s => s.Contains($"version {retraction} retracted version {version}", StringComparison.Ordinal));

        // Both alerts went out on the alerts topic (the run record it followed said so).
        Assert.Equal(AlertStatus.Succeeded, (await SmokeAlertAsync(version)).Status);
        Assert.Equal(AlertStatus.Retracted, (await SmokeAlertAsync(retraction)).Status);

        // Every KPI of every day and category is what it was. The list of categories too, when the KPIs had some for the
        // smoke to use; on an empty system its categories stay named (with no rows), and it says so.
        Assert.Equal(kpisBefore, await VisibleKpiRowsAsync());
        var categoriesAfter = await _pipeline.Kpis.ListCategoriesAsync(CancellationToken.None);
        if (categoriesBefore.Count > 0)
        {
            Assert.Equal(categoriesBefore, categoriesAfter);
            Assert.Contains(steps, s => s.EndsWith("the list of categories is as before", StringComparison.Ordinal));
        }
        else
        {
            Assert.Equal(summary.RootElement.GetProperty("categories").EnumerateArray().Select(c => c.GetString()), categoriesAfter);
            Assert.Contains(steps, s => s.Contains("the list of categories now also names Beauty, Books,", StringComparison.Ordinal));
        }
        // Its customers are counted on none of its days any more: the day items and their other customer pages count none.
        var dayStates = await DayStateAsync(SmokeBatch.FirstDay, SmokeBatch.LastDay);
        Assert.NotEmpty(dayStates);
        Assert.All(dayStates, item => Assert.Equal("0", item.GetValueOrDefault("distinct_customers")?.N ?? "0"));
        // Its order ids are held by no version that counts: the key index still names the retracted version, which counts for nothing...
        var holders = await SmokeKeyHoldersAsync();
        Assert.Contains(new KeyOwner(SmokeBatch.Name, version), holders);
        foreach (var holder in holders)
        {
            Assert.Equal(RunStatus.Retracted, (await _pipeline.HistoryAsync(holder.BatchId)).Versions.Single(v => v.Version == holder.Version).Status);
        }
        // ...so another batch may count them now.
        await SubmitAndRetractAsync("smoke-ids-reused", SmokeBatch.IdOffset);
    }

    [Fact]
    public async Task Smoke_fails_with_the_pipelines_reason_when_another_batch_counts_its_order_ids()
    {
        var holder = PipelineDriver.Generate(30, new DateOnly(1902, 3, 1), seed: 62, days: 1, idOffset: SmokeBatch.IdOffset);
        await _pipeline.SubmitAsync(holder, "smoke-ids-holder");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("smoke-ids-holder")).Status);
        try
        {
            var run = await SmokeAsync();

            Assert.Equal(2, run.ExitCode);
            Assert.Equal("", run.Out);
            var failure = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
            Assert.Matches($@"^pipeline smoke: version \d+ of {SmokeBatch.Name} was rejected: .*key\.seen_in_batch", failure);
            Assert.Contains("already counted in batch smoke-ids-holder (version 1)", failure, StringComparison.Ordinal);
        }
        finally
        {
            await _pipeline.Bus.PublishAsync(new BatchRetractionRequested("smoke-ids-holder", Reason: "held the smoke's ids", Source: "tests"));
            Assert.Equal(AlertStatus.Retracted, (await _pipeline.NextAlertAsync("smoke-ids-holder")).Status);
        }
    }

    [Fact]
    public async Task Smoke_with_too_short_a_timeout_says_what_it_waited_for_and_the_next_run_takes_out_what_it_left()
    {
        var late = await SmokeAsync("--timeout", "0.05");

        Assert.Equal(1, late.ExitCode);
        Assert.Equal("", late.Out);
        var failure = late.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.Matches($@"^pipeline smoke: no Succeeded alert about {SmokeBatch.Name} within 0\.05 s: ", failure);

        // The late batch goes on through the pipeline; the next run replaces it, and retracting that leaves the days empty.
        var next = await SmokeAsync();

        Assert.True(next.ExitCode == 0, next.Error);
        using var summary = JsonDocument.Parse(next.Out);
        Assert.Empty(await _pipeline.Kpis.GetDaysAsync(SmokeBatch.FirstDay, SmokeBatch.LastDay, CancellationToken.None));
        Assert.Null((await _pipeline.HistoryAsync(SmokeBatch.Name)).InForce);
    }

    /// <summary>Runs <c>pipeline smoke</c> against the fixture's emulators; its stderr goes to the test's output.</summary>
    private async Task<CliRun> SmokeAsync(params string[] args)
    {
        var run = await CliRun.RunAsync(["smoke", .. args, .. app.Aws.CliEndpointArguments()]);
        output.WriteLine($"{string.Join(' ', ["pipeline smoke", .. args])}: exit {run.ExitCode}\n{run.Error}");
        return run;
    }

    [GeneratedRegex(@"^\[ *\d+\.\d s\] \S")]
    private static partial Regex StepLine();

    /// <summary>The alert about version <paramref name="version"/> of the smoke batch (earlier runs' alerts are passed over).</summary>
    private async Task<Alert> SmokeAlertAsync(int version)
    {
        while (true)
        {
            var alert = await _pipeline.NextAlertAsync(SmokeBatch.Name);
            if (alert.Version == version)
            {
                return alert;
            }
        }
    }

    /// <summary>Submits a generated batch with the ids after <paramref name="idOffset"/>; it succeeds, and is retracted again.</summary>
    private async Task SubmitAndRetractAsync(string name, long idOffset)
    {
        await _pipeline.SubmitAsync(PipelineDriver.Generate(30, new DateOnly(1902, 3, 1), seed: 63, days: 1, idOffset: idOffset), name);
        var accepted = await _pipeline.NextAlertAsync(name);
        Assert.True(accepted.Status == AlertStatus.Succeeded, accepted.Summary);
        await _pipeline.Bus.PublishAsync(new BatchRetractionRequested(name, Reason: "proved the ids free", Source: "tests"));
        Assert.Equal(AlertStatus.Retracted, (await _pipeline.NextAlertAsync(name)).Status);
    }

    /// <summary>Every KPI row a reader sees (rows marked removed left out), without the bookkeeping that changes when a row is rewritten.</summary>
    private async Task<List<string>> VisibleKpiRowsAsync()
    {
        var rows = new List<string>();
        foreach (var table in new[] { _pipeline.Topology.OrderKpisTable.Name, _pipeline.Topology.CategoryKpisTable.Name })
        {
            foreach (var item in await ScanAsync(table))
            {
                if (!item.ContainsKey("removed"))
                {
                    var figures = item.Where(a => a.Key is not ("state_version" or "updated_at")).OrderBy(a => a.Key, StringComparer.Ordinal);
                    rows.Add(table + " " + string.Join(", ", figures.Select(a => $"{a.Key}={a.Value.S ?? a.Value.N}")));
                }
            }
        }
        return [.. rows.Order(StringComparer.Ordinal)];
    }

    /// <summary>The day-state items of the days in [from, to].</summary>
    private async Task<List<Dictionary<string, AttributeValue>>> DayStateAsync(DateOnly from, DateOnly to) =>
        (await ScanAsync(_pipeline.Topology.KpiDaysTable.Name))
            .Where(i => DateOnly.ParseExact(i["order_date"].S, "yyyy-MM-dd", CultureInfo.InvariantCulture) is var day && day >= from && day <= to)
            .ToList();

    /// <summary>Who the order-key index says holds ids on the pages of the smoke batch's orders and items (ids above its offset).</summary>
    /// <remarks>A page is <c>order#&lt;number&gt;</c> or <c>item#&lt;number&gt;</c>, numbered by id &gt;&gt; 15.</remarks>
    private async Task<List<KeyOwner>> SmokeKeyHoldersAsync() =>
        (await ScanAsync(_pipeline.Topology.OrderKeysTable.Name))
            .Where(p => long.Parse(p["page"].S.Split('#')[1], CultureInfo.InvariantCulture) >= SmokeBatch.IdOffset >> 15)
            .SelectMany(p => p.TryGetValue("holders", out var holders) ? holders.M.Keys : Enumerable.Empty<string>())
            .Select(KeyOwner.Parse)
            .Distinct()
            .ToList();

    /// <summary>Every item of a table (they are small here), page after page.</summary>
    private async Task<List<Dictionary<string, AttributeValue>>> ScanAsync(string table)
    {
        var items = new List<Dictionary<string, AttributeValue>>();
        Dictionary<string, AttributeValue>? next = null;
        do
        {
            var page = await _dynamoDb.ScanAsync(new ScanRequest { TableName = table, ConsistentRead = true, ExclusiveStartKey = next });
            items.AddRange(page.Items ?? []);
            next = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (next is not null);
        return items;
    }
}
