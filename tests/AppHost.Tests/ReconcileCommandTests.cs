using Amazon.DynamoDBv2.Model;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Xunit.Abstractions;

namespace AppHost.Tests;

/// <summary>
/// <c>pipeline reconcile</c> and <c>pipeline rebuild</c> against the running AppHost: the KPI tables equal the archive's
/// recomputation after an upload, a replacement and a retraction; a figure changed by hand is named by day and figure
/// (exit 1, and a ReconciliationFailed alert when published); <c>rebuild</c> restores it; and a rebuild while another batch
/// folds on the same days ends exact. Batches shaped like the seed data, on days of their own (2012) so that the other
/// tests' batches stay out of the compared range.
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class ReconcileCommandTests(EmulatorAppFixture app, ITestOutputHelper output) : IDisposable
{
    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task Reconcile_is_equal_after_upload_replace_and_retract_names_a_changed_figure_and_rebuild_restores_it()
    {
        var (from, to) = (new DateOnly(2012, 3, 1), new DateOnly(2012, 3, 31));
        var ids = PipelineDriver.NewIds();
        await SubmitAndWaitAsync(PipelineDriver.Generate(300, from, seed: 81, days: 5, idOffset: ids), "reconciled-a", AlertStatus.Succeeded);
        await AssertEqualAsync(from, to, batches: 1);

        // A replacement with other orders on the same days, and a second batch over some of them, then retracted.
        await SubmitAndWaitAsync(PipelineDriver.Generate(350, from, seed: 82, days: 5, idOffset: ids), "reconciled-a", AlertStatus.Succeeded);
        await AssertEqualAsync(from, to, batches: 1);
        await SubmitAndWaitAsync(PipelineDriver.Generate(200, from.AddDays(3), seed: 83, days: 4), "reconciled-b", AlertStatus.Succeeded);
        await AssertEqualAsync(from, to, batches: 2);
        await _pipeline.Bus.PublishAsync(new BatchRetractionRequested("reconciled-b", Reason: "reconcile test", Source: "tests"));
        Assert.Equal(AlertStatus.Retracted, (await _pipeline.NextAlertAsync("reconciled-b")).Status);
        await AssertEqualAsync(from, to, batches: 1);

        // A figure changed by hand: named by day and figure, exit 1, and the published result is an alert to people.
        var day = from.AddDays(1);
        var stored = (await _pipeline.Kpis.GetDayAsync(day, CancellationToken.None))!;
        await SetOrderFigureAsync(day, "total_orders", stored.TotalOrders + 7);
        await AddCategoryRowAsync(day, "Stray goods"); // and a row no batch gave, added by hand
        var changed = await ReconcileAsync("reconcile", "--from", "2012-03-01", "--to", "2012-03-31", "--publish");
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains($"order KPIs of 2012-03-02: total_orders is {stored.TotalOrders + 7} in DynamoDB, the engine computes {stored.TotalOrders}",
            changed.Out);
        Assert.Contains("Stray goods on 2012-03-02: in DynamoDB, but the engine computes no such row", changed.Out);
        var summary = changed.Out.TrimEnd().Split('\n')[^1];
        Assert.StartsWith("2 differences and 0 unverifiable versions over ", summary);
        Assert.EndsWith(", 1 batches in force, 350 orders", summary);
        var alert = await _pipeline.NextAlertAsync("(reconciliation)");
        Assert.Equal(AlertStatus.ReconciliationFailed, alert.Status);
        Assert.Contains("total_orders is", alert.Summary);

        // rebuild writes the day's rows again from its state, removes the row no batch gave, and proves them.
        var rebuilt = await ReconcileAsync("rebuild", "--from", "2012-03-01", "--to", "2012-03-31");
        Assert.True(rebuilt.ExitCode == 0, rebuilt.Out + rebuilt.Error);
        Assert.Contains("; 1 category rows no batch gave removed", rebuilt.Error);
        Assert.DoesNotContain(await _pipeline.Kpis.GetCategoriesOnDayAsync(day, CancellationToken.None), row => row.Category == "Stray goods");
        Assert.Equal(stored, await _pipeline.Kpis.GetDayAsync(day, CancellationToken.None));
        await AssertEqualAsync(from, to, batches: 1);
        // Idempotent: a second rebuild changes nothing.
        Assert.Equal(0, (await ReconcileAsync("rebuild", "--from", "2012-03-01", "--to", "2012-03-31")).ExitCode);
        Assert.Equal(stored, await _pipeline.Kpis.GetDayAsync(day, CancellationToken.None));
    }

    [Fact]
    public async Task Rebuild_while_another_batch_folds_on_the_same_days_ends_exact()
    {
        var (from, to) = (new DateOnly(2012, 6, 1), new DateOnly(2012, 6, 30));
        await SubmitAndWaitAsync(PipelineDriver.Generate(300, from, seed: 84, days: 6), "rebuilt-a", AlertStatus.Succeeded);
        await SetOrderFigureAsync(from.AddDays(2), "total_orders", 1);

        // The second batch folds into the same days while rebuild after rebuild rewrites them.
        await _pipeline.SubmitAsync(PipelineDriver.Generate(300, from.AddDays(1), seed: 85, days: 6), "rebuilt-b");
        var arrived = _pipeline.NextAlertAsync("rebuilt-b");
        var rebuilds = 0;
        do
        {
            await ReconcileAsync("rebuild", "--from", "2012-06-01", "--to", "2012-06-30");
            rebuilds++;
        }
        while (!arrived.IsCompleted);
        Assert.Equal(AlertStatus.Succeeded, (await arrived).Status);
        output.WriteLine($"{rebuilds} rebuilds while rebuilt-b was processed");

        // Neither lost nor counted twice: the rows equal the archive's recomputation of both batches.
        await AssertEqualAsync(from, to, batches: 2);
    }

    [Fact]
    public async Task A_version_whose_shared_products_file_changed_since_cannot_be_verified_and_is_named()
    {
        var (from, to) = (new DateOnly(2012, 9, 1), new DateOnly(2012, 9, 30));
        const string Products = "data/shared/reconciled-products.csv";
        var folder = PipelineDriver.Generate(200, from, seed: 86, days: 3);
        await _pipeline.S3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest
        {
            BucketName = _pipeline.Topology.Bucket.Name,
            Key = Products,
            FilePath = Path.Combine(folder, "products.csv"),
        });
        await _pipeline.UploadWithProductsAtAsync(folder, "reconciled-shared", Products);
        await _pipeline.Bus.PublishAsync(new BatchSubmitted("reconciled-shared", _pipeline.Topology.Bucket.Name,
            Pipeline.Storage.Batches.BatchLayout.ManifestKey("reconciled-shared"), null, DateTimeOffset.UtcNow, "tests"));
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("reconciled-shared")).Status);
        // Read where it is, while it is the file the version used.
        await AssertEqualAsync(from, to, batches: 1);

        // The shared master changes: the archive can no longer prove the batch's KPIs either way.
        await _pipeline.S3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest
        {
            BucketName = _pipeline.Topology.Bucket.Name,
            Key = Products,
            ContentBody = "id,sku,cost,category,name,brand,retail_price,department\n1,X-1,1.00,Books,Only,B,2.00,D\n",
        });
        var run = await ReconcileAsync("reconcile", "--from", $"{from:yyyy-MM-dd}", "--to", $"{to:yyyy-MM-dd}");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"batch reconciled-shared version 1 cannot be verified: its products.csv is {Products}, which has changed since version 1 used it",
            run.Out);
        Assert.StartsWith("0 differences and 1 unverifiable versions over ", run.Out.TrimEnd().Split('\n')[^1]);
    }

    private async Task SubmitAndWaitAsync(string folder, string name, AlertStatus expected)
    {
        await _pipeline.SubmitAsync(folder, name);
        Assert.Equal(expected, (await _pipeline.NextAlertAsync(name)).Status);
    }

    private async Task AssertEqualAsync(DateOnly from, DateOnly to, int batches)
    {
        var run = await ReconcileAsync("reconcile", "--from", $"{from:yyyy-MM-dd}", "--to", $"{to:yyyy-MM-dd}");
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        var line = Assert.Single(run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("reconciled ", line);
        Assert.Contains($", {batches} batches in force, ", line);
        Assert.EndsWith("the KPI tables equal the engine's recomputation from the archive", line);
    }

    /// <summary>Changes one figure of a day's order KPI row as a person with console access would.</summary>
    private Task SetOrderFigureAsync(DateOnly day, string figure, long value) =>
        _pipeline.DynamoDb.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = _pipeline.Topology.OrderKpisTable.Name,
            Key = new() { ["order_date"] = new AttributeValue($"{day:yyyy-MM-dd}") },
            UpdateExpression = "SET #figure = :value",
            ExpressionAttributeNames = new() { ["#figure"] = figure },
            ExpressionAttributeValues = new() { [":value"] = new AttributeValue { N = value.ToString(System.Globalization.CultureInfo.InvariantCulture) } },
        });

    /// <summary>Adds a category row to a day, as a person with console access would.</summary>
    private Task AddCategoryRowAsync(DateOnly day, string category) =>
        _pipeline.DynamoDb.PutItemAsync(new PutItemRequest
        {
            TableName = _pipeline.Topology.CategoryKpisTable.Name,
            Item = new()
            {
                ["category"] = new AttributeValue(category),
                ["order_date"] = new AttributeValue($"{day:yyyy-MM-dd}"),
                ["daily_revenue"] = new AttributeValue { N = "10.5" },
                ["avg_order_value"] = new AttributeValue { N = "10.5" },
                ["avg_return_rate"] = new AttributeValue { N = "0" },
            },
        });

    private async Task<CliRun> ReconcileAsync(params string[] args)
    {
        var run = await CliRun.RunAsync([.. args, .. app.Aws.CliEndpointArguments()]);
        output.WriteLine($"pipeline {string.Join(' ', args)}: exit {run.ExitCode}\n{run.Out}{run.Error}");
        return run;
    }
}
