using Amazon.SQS.Model;
using EventBus.AwsSqs;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Generation;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Curated;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;
using Pipeline.Topology;
using ServiceDefaults.Aws;
using Xunit.Abstractions;

namespace Deploy.Tests;

/// <summary>
/// The published images, started as ECS would start them, process batches end to end and survive a SIGTERM mid-batch; the
/// command's image, run as the scheduled reconciliation task runs it, reconciles and publishes its result to the Notifier.
/// </summary>
[Collection(CdkCollection.Name)]
public sealed class ImageTests(ServiceContainers images, ITestOutputHelper output) : IClassFixture<ServiceContainers>
{
    private static readonly TimeSpan AlertTimeout = TimeSpan.FromMinutes(3);

    [ContainerFact]
    public async Task The_images_process_the_seed_data_into_the_engines_kpis_and_a_succeeded_alert()
    {
        foreach (var (service, took) in images.StartToHealthy)
        {
            output.WriteLine($"{service}: container start to healthy {took.TotalSeconds:0.0} s");
        }
        var folder = SeedData.Directory ?? Generate(9_000, new DateOnly(2025, 3, 8), seed: 1, days: 31, idOffset: 0);
        var expected = KpiCalculator.Compute(new BatchProcessor().Process(LocalBatchFolder.Open(folder)).Kpis!);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await SubmitAsync(folder, "seed");
        var alert = await NextAlertAsync("seed");
        output.WriteLine($"first batch after a cold start: submit to alert {watch.Elapsed.TotalSeconds:0.0} s");

        Assert.Equal(AlertStatus.Succeeded, alert.Status);
        await AssertKpisAsync(expected);
        // Compute's image writes the curated Parquet with a native library: one object a day of the batch.
        using (var s3 = AwsClientFactory.CreateS3(images.Aws, images.Credentials))
        {
            var curated = await s3.ListObjectsV2Async(new() { BucketName = images.Topology.Bucket.Name, Prefix = PipelineTopology.CuratedOrderItems.Prefix });
            Assert.Equal(
                expected.OrderKpis.Select(r => CuratedPublisher.KeyOf("seed", r.OrderDate)).Order(StringComparer.Ordinal),
                curated.S3Objects.Select(o => o.Key).Order(StringComparer.Ordinal));
        }

        // The dashboard's image, with its read-only role's environment, serves the same numbers.
        using var dashboard = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{images.Ports["dashboard"]}") };
        var days = expected.OrderKpis.Select(r => r.OrderDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        using var json = System.Text.Json.JsonDocument.Parse(await dashboard.GetStringAsync($"/api/kpis/daily?from={days[0]}&to={days[^1]}"));
        Assert.Equal(
            expected.OrderKpis.Select(r => r.TotalRevenue),
            json.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("total_revenue").GetDecimal()));
        Assert.Contains("<script", await dashboard.GetStringAsync("/"), StringComparison.Ordinal);
    }

    [ContainerFact]
    public async Task A_service_stopped_with_sigterm_mid_batch_is_replaced_and_the_batch_ends_exactly_once_with_exact_kpis()
    {
        // Large enough to stay in Transform for a while; days and order ids of its own so its KPIs stand alone.
        var folder = Generate(300_000, new DateOnly(2026, 1, 1), seed: 7, days: 5, idOffset: 100_000_000);
        var expected = KpiCalculator.Compute(new BatchProcessor().Process(LocalBatchFolder.Open(folder)).Kpis!);
        var runs = new PipelineRunStore(AwsClientFactory.CreateDynamoDb(images.Aws, images.Credentials), images.Topology, TimeProvider.System);

        await SubmitAsync(folder, "sigterm");
        await WaitUntilAsync(async () => (await runs.GetAsync("sigterm", 1, CancellationToken.None)) is { CurrentStage: Stages.Transform } run
            && run.Stages[Stages.Transform].Status == StageStatus.Running, "the batch to be in Transform");
        var (exitCode, took) = await images.TerminateAsync("transform");
        output.WriteLine($"transform stopped by SIGTERM mid-batch: exit code {exitCode} after {took.TotalSeconds:0.0} s");
        await images.StartAsync("transform");

        var alert = await NextAlertAsync("sigterm");
        Assert.True(alert.Status == AlertStatus.Succeeded, $"{alert.Subject}: {alert.Summary}");
        await AssertKpisAsync(expected);
        var run = (await runs.GetAsync("sigterm", 1, CancellationToken.None))!;
        Assert.True(run.Status == RunStatus.Succeeded, $"The run is {run.Status}: {run.Summary}\n{await images.LogsAsync()}");
        // Exactly once: no second alert about it comes after the first.
        await Assert.ThrowsAsync<TimeoutException>(() => NextAlertAsync("sigterm", TimeSpan.FromSeconds(15)));
        Assert.Equal(0, exitCode);
    }

    [ContainerFact]
    public async Task The_command_image_run_as_the_reconciliation_task_reconciles_and_the_notifier_logs_its_published_result()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (exitCode, printed) = await images.RunReconciliationAsync(TimeSpan.FromSeconds(45));
        output.WriteLine($"pipeline reconcile --publish --aws in its image: exit code {exitCode} after {watch.Elapsed.TotalSeconds:0.0} s\n{printed}");

        // The KPI tables are whatever the other tests left (the images' own, exact), or empty: equal to the archive either way.
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{printed}");
        var summary = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith("reconciled ", StringComparison.Ordinal));
        Assert.EndsWith("the KPI tables equal the engine's recomputation from the archive", summary, StringComparison.Ordinal);
        // Its ReconciliationFinished reached the Notifier's queue: the Notifier's image logs an equal result (an alert only when not).
        await WaitUntilAsync(async () => (await images.LogsAsync()).Contains("Reconciled: The KPI tables equal the", StringComparison.Ordinal),
            "the Notifier to log the reconciliation");
    }

    private async Task SubmitAsync(string folder, string name)
    {
        using var s3 = AwsClientFactory.CreateS3(images.Aws, images.Credentials);
        var uploaded = await new BatchUploader(s3, new S3BatchStore(s3)).UploadAsync(images.Topology.Bucket.Name, folder, name, null, CancellationToken.None);
        var sqs = AwsClientFactory.CreateSqs(images.Aws, images.Credentials);
        var bus = SqsPublisher.Create(sqs, global::Aws.Sns.SnsClient.Create(AwsClientFactory.SnsOptions(images.Aws, images.Credentials)), "deploy-tests");
        await bus.PublishAsync(new BatchSubmitted(name, uploaded.Bucket, uploaded.ManifestKey, uploaded.ManifestETag, DateTimeOffset.UtcNow, "tests"));
    }

    private async Task AssertKpisAsync(KpiTables expected)
    {
        var kpis = new KpiQueries(AwsClientFactory.CreateDynamoDb(images.Aws, images.Credentials), images.Topology);
        var days = expected.OrderKpis.Select(r => r.OrderDate).ToList();
        Assert.Equal(expected.OrderKpis, await kpis.GetDaysAsync(days.Min(), days.Max(), CancellationToken.None));
        foreach (var day in days)
        {
            Assert.Equal(expected.CategoryKpis.Where(r => r.OrderDate == day), await kpis.GetCategoriesOnDayAsync(day, CancellationToken.None));
        }
    }

    /// <summary>
    /// The next alert about <paramref name="batchId"/> on the alerts inbox queue (alerts about other batches are dropped:
    /// each test has its own batch).
    /// </summary>
    private async Task<Alert> NextAlertAsync(string batchId, TimeSpan? timeout = null)
    {
        using var sqs = AwsClientFactory.CreateSqs(images.Aws, images.Credentials);
        var inbox = (await sqs.GetQueueUrlAsync(images.Topology.AlertsInboxQueue.Name)).QueueUrl;
        var deadline = DateTimeOffset.UtcNow + (timeout ?? AlertTimeout);
        while (DateTimeOffset.UtcNow < deadline)
        {
            var received = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = inbox, WaitTimeSeconds = 2, MaxNumberOfMessages = 10 });
            foreach (var message in received.Messages ?? [])
            {
                await sqs.DeleteMessageAsync(inbox, message.ReceiptHandle);
                var alert = Alert.FromJson(message.Body);
                if (alert.BatchId == batchId)
                {
                    return alert;
                }
            }
        }
        throw new TimeoutException($"No alert about batch {batchId} in time. The containers' logs:\n{await images.LogsAsync()}");
    }

    private async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTimeOffset.UtcNow + AlertTimeout;
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited in vain for {what}. The containers' logs:\n{await images.LogsAsync()}");
            }
            await Task.Delay(50);
        }
    }

    private static string Generate(long orders, DateOnly firstDay, ulong seed, int days, long idOffset)
    {
        var folder = Directory.CreateTempSubdirectory("deploy-tests-batch-").FullName;
        SyntheticBatchGenerator.Generate(
            folder,
            new GeneratorOptions(orders, Parts: 3, Seed: seed, Days: days, Products: 500) { FirstDay = firstDay, IdOffset = idOffset });
        return folder;
    }
}
