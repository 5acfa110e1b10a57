using Pipeline.Contracts.Alerts;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Runs;

namespace AppHost.Tests;

/// <summary>Batches through the whole running system: S3 in, Validate, Transform, Compute, KPIs in DynamoDB, an alert out.</summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class PipelineEndToEndTests(EmulatorAppFixture app) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [SkippableFact]
    public async Task The_seed_data_as_one_batch_gives_the_engines_kpis_and_a_succeeded_alert()
    {
        // The seed data when this checkout has it (with the old system's facts); otherwise generated data shaped like it,
        // and the test ends as skipped, saying that the old system's facts were not checked.
        var folder = SeedData.Directory ?? PipelineDriver.Generate(9_000, new DateOnly(2025, 3, 8), seed: 1, days: 31);
        var expected = KpiCalculator.Compute(new BatchProcessor().Process(LocalBatchFolder.Open(folder)).Kpis!);

        await _pipeline.SubmitAsync(folder, "seed");
        var alert = await _pipeline.NextAlertAsync("seed");

        Assert.Equal(AlertStatus.Succeeded, alert.Status);
        var days = expected.OrderKpis.Select(r => r.OrderDate).ToList();
        Assert.Equal(expected.OrderKpis, await _pipeline.Kpis.GetDaysAsync(days.Min(), days.Max(), CancellationToken.None));
        foreach (var category in expected.CategoryKpis.Select(r => r.Category).Distinct())
        {
            Assert.Equal(
                expected.CategoryKpis.Where(r => r.Category == category),
                await _pipeline.Kpis.GetCategoryAsync(category, days.Min(), days.Max(), CancellationToken.None));
        }
        if (SeedData.Directory is not null)
        {
            var electronics = (await _pipeline.Kpis.GetCategoryAsync(
                "Electronics", new DateOnly(2025, 3, 8), new DateOnly(2025, 3, 8), CancellationToken.None)).Single();
            Assert.Equal((9599.86m, 78.04764227642276, 18.69918699186992), (electronics.DailyRevenue, electronics.AvgOrderValue, electronics.AvgReturnRate));
            var day = (await _pipeline.Kpis.GetDayAsync(new DateOnly(2025, 3, 25), CancellationToken.None))!;
            Assert.Equal(
                (342L, 999L, 79223.33m, 340L, 18.421052631578945),
                (day.TotalOrders, day.TotalItemsSold, day.TotalRevenue, day.UniqueCustomers, day.ReturnRate));
        }
        Assert.Contains("processed/seed/v1/manifest_seed.json", await _pipeline.KeysUnderAsync("processed/seed/v1/"));
        Assert.Empty(await _pipeline.KeysUnderAsync("data/seed/"));
        // The enriched data of the batch's many parts, in one file per table: a request each to write and to read.
        Assert.Equal(["transformed/seed/v1/order_items/0001.pen", "transformed/seed/v1/orders/0001.pen"],
            (await _pipeline.KeysUnderAsync("transformed/seed/v1/")).Order(StringComparer.Ordinal));

        // A corrected export under the same name replaces the batch: one item's sale_price on 2025-03-08 up by 1000.00.
        var corrected = CopyWithRaisedPrice(folder, new DateOnly(2025, 3, 8), 1000.00m);
        await _pipeline.SubmitAsync(corrected, "seed");
        var replaced = await _pipeline.NextAlertAsync("seed");
        Assert.Equal((AlertStatus.Succeeded, (int?)2), (replaced.Status, replaced.Version));
        Assert.Contains("replaces version 1", replaced.Summary);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(corrected));
        if (SeedData.Directory is not null)
        {
            Assert.Equal(68398.91m, (await _pipeline.Kpis.GetDayAsync(new DateOnly(2025, 3, 8), CancellationToken.None))!.TotalRevenue);
        }
        var history = await _pipeline.HistoryAsync("seed");
        Assert.Equal([(1, RunStatus.Replaced), (2, RunStatus.Succeeded)], history.Versions.Select(v => (v.Version, v.Status)));
        Assert.Equal(2, history.InForce!.Version);
        Assert.Contains("processed/seed/v2/manifest_seed.json", await _pipeline.KeysUnderAsync("processed/seed/v2/"));

        // A third upload of the name that breaks a rule is rejected, and the second stays in force.
        var broken = CopyWithRaisedPrice(corrected, new DateOnly(2025, 3, 9), 1.00m);
        var part = Directory.GetFiles(Path.Combine(broken, "orders")).Order().First();
        var lines = File.ReadAllLines(part);
        lines[1] = string.Join(',', lines[1].Split(',').Select((field, i) => i == 2 ? "misplaced" : field));
        File.WriteAllLines(part, lines);
        await _pipeline.SubmitAsync(broken, "seed");
        var rejected = await _pipeline.NextAlertAsync("seed");
        Assert.Equal((AlertStatus.Rejected, (int?)3), (rejected.Status, rejected.Version));
        Assert.Contains("field.invalid_status", rejected.Subject + rejected.Summary);
        Assert.Equal(2, (await _pipeline.HistoryAsync("seed")).InForce!.Version);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(corrected));

        // The same orders again under another name would count every order twice: refused, naming the batch that holds them.
        await _pipeline.SubmitAsync(folder, "seed-again");
        var duplicate = await _pipeline.NextAlertAsync("seed-again");
        Assert.Equal(AlertStatus.Rejected, duplicate.Status);
        Assert.Contains("key.seen_in_batch", duplicate.Subject + duplicate.Summary);
        Assert.Contains("already counted in batch seed (version 2)", duplicate.Summary);
        Assert.Matches(@"orders/orders_part\d+\.csv line \d+ column order_id", duplicate.Summary);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(corrected));
        DynamicSkip.Unless(SeedData.Directory is not null,
            "shared/seed-data not found above the test folder: the batch was generated data, and the old system's figures for the seed data were not checked.");
    }

    /// <summary>A copy of a batch folder with the sale_price of the first item created on <paramref name="day"/> raised by <paramref name="raise"/>.</summary>
    private static string CopyWithRaisedPrice(string folder, DateOnly day, decimal raise)
    {
        var copy = PipelineDriver.NewBatchFolder();
        foreach (var file in Directory.GetFiles(folder, "*.csv", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(folder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var stamp = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) + "T";
        foreach (var part in Directory.GetFiles(Path.Combine(copy, "order_items")).Order())
        {
            var lines = File.ReadAllLines(part);
            var at = Array.FindIndex(lines, 1, l => l.Split(',')[5].StartsWith(stamp, StringComparison.Ordinal));
            if (at > 0)
            {
                var fields = lines[at].Split(',');
                fields[^1] = (decimal.Parse(fields[^1], System.Globalization.CultureInfo.InvariantCulture) + raise)
                    .ToString(System.Globalization.CultureInfo.InvariantCulture);
                lines[at] = string.Join(',', fields);
                File.WriteAllLines(part, lines);
                return copy;
            }
        }
        throw new InvalidOperationException($"no item created on {day} in {folder}");
    }

    [Fact]
    public async Task A_rejected_batch_keeps_its_files_and_report_in_errors_names_the_rule_and_leaves_the_kpis_untouched()
    {
        var firstDay = new DateOnly(2023, 1, 1);
        var folder = PipelineDriver.Generate(300, firstDay, seed: 2, days: 5);
        var part = Directory.GetFiles(Path.Combine(folder, "order_items")).Order().First();
        var lines = File.ReadAllLines(part);
        lines[3] = lines[3].Replace(",delivered,", ",lost-in-transit,").Replace(",returned,", ",lost-in-transit,")
            .Replace(",shipped,", ",lost-in-transit,").Replace(",pending,", ",lost-in-transit,");
        File.WriteAllLines(part, lines);
        var before = await _pipeline.Kpis.GetDaysAsync(firstDay, firstDay.AddDays(6), CancellationToken.None);

        await _pipeline.SubmitAsync(folder, "rejected");
        var alert = await _pipeline.NextAlertAsync("rejected");

        Assert.Equal(AlertStatus.Rejected, alert.Status);
        Assert.Contains("field.invalid_status", alert.Subject + alert.Summary);
        Assert.Contains($"order_items/{Path.GetFileName(part)} line 4", alert.Summary);
        var kept = await _pipeline.KeysUnderAsync("errors/rejected/v1/");
        Assert.Contains("errors/rejected/v1/validation.json", kept);
        Assert.Contains("errors/rejected/v1/manifest_rejected.json", kept);
        Assert.Contains($"errors/rejected/v1/order_items/{Path.GetFileName(part)}", kept);
        Assert.Empty(await _pipeline.KeysUnderAsync("data/rejected/"));
        Assert.Equal(before, await _pipeline.Kpis.GetDaysAsync(firstDay, firstDay.AddDays(6), CancellationToken.None));
    }

    [Fact]
    public async Task A_submission_whose_manifest_does_not_exist_is_rejected_with_that_reason_and_a_report()
    {
        await _pipeline.Bus.PublishAsync(new Pipeline.Contracts.BatchSubmitted("never-uploaded", _pipeline.Topology.Bucket.Name,
            "data/never-uploaded/manifest_never-uploaded.json", ManifestETag: null, DateTimeOffset.UtcNow, "tests"));

        var alert = await _pipeline.NextAlertAsync("never-uploaded");

        Assert.Equal(AlertStatus.Rejected, alert.Status);
        Assert.Contains("data/never-uploaded/manifest_never-uploaded.json does not exist", alert.Summary);
        Assert.Contains("errors/never-uploaded/v1/validation.json", await _pipeline.KeysUnderAsync("errors/never-uploaded/"));
    }

    [Fact]
    public async Task The_same_submission_delivered_twice_at_once_runs_once_and_gives_one_alert()
    {
        var firstDay = new DateOnly(2023, 6, 1);
        var folder = PipelineDriver.Generate(400, firstDay, seed: 3, days: 4);
        var uploaded = await new BatchUploader(_pipeline.S3, new S3BatchStore(_pipeline.S3))
            .UploadAsync(_pipeline.Topology.Bucket.Name, folder, "twice", null, CancellationToken.None);

        // As in AWS, where pipeline submit and the S3 event both announce the upload.
        var submitted = new Pipeline.Contracts.BatchSubmitted(
            "twice", uploaded.Bucket, uploaded.ManifestKey, uploaded.ManifestETag, DateTimeOffset.UtcNow, "tests");
        await Task.WhenAll(_pipeline.Bus.PublishAsync(submitted), _pipeline.Bus.PublishAsync(submitted with { Source = "s3-event" }));

        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("twice")).Status);
        // The same content submitted again later is recognised too: nothing runs, nothing is announced.
        await _pipeline.Bus.PublishAsync(submitted);
        await _pipeline.AssertNoAlertAboutAsync("twice");
        var history = await _pipeline.HistoryAsync("twice");
        Assert.Equal(RunStatus.Succeeded, Assert.Single(history.Versions).Status);
        await _pipeline.AssertKpisEqualAsync(PipelineDriver.EngineKpis(folder));
    }

    [Fact]
    public async Task Two_batches_touching_the_same_days_leave_the_kpis_of_both_together()
    {
        var firstDay = new DateOnly(2024, 2, 1);
        var a = PipelineDriver.Generate(500, firstDay, seed: 4, days: 6);
        var b = PipelineDriver.Generate(700, firstDay.AddDays(3), seed: 5, days: 6);

        await _pipeline.SubmitAsync(a, "same-days-a");
        await _pipeline.SubmitAsync(b, "same-days-b");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("same-days-a")).Status);
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("same-days-b")).Status);

        var expected = KpiCalculator.Compute(KpiPartial.Merge(
            new BatchProcessor().Process(LocalBatchFolder.Open(a)).Kpis!,
            new BatchProcessor().Process(LocalBatchFolder.Open(b)).Kpis!));
        var days = expected.OrderKpis.Select(r => r.OrderDate).ToList();
        Assert.Equal(expected.OrderKpis, await _pipeline.Kpis.GetDaysAsync(days.Min(), days.Max(), CancellationToken.None));
        foreach (var day in days)
        {
            Assert.Equal(expected.CategoryKpis.Where(r => r.OrderDate == day), await _pipeline.Kpis.GetCategoriesOnDayAsync(day, CancellationToken.None));
        }
    }

    [Fact]
    public async Task An_s3_event_for_a_manifest_on_the_notification_queue_starts_the_batch()
    {
        var folder = PipelineDriver.Generate(200, new DateOnly(2022, 5, 1), seed: 6, days: 3);
        await _pipeline.DropAsync(folder, "from-s3-event");

        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("from-s3-event")).Status);
    }
}
