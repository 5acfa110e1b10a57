using System.Globalization;
using DuckDB.NET.Data;
using Pipeline.Contracts;
using Pipeline.Contracts.Alerts;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Curated;
using Pipeline.Topology;

namespace AppHost.Tests;

/// <summary>
/// The analysts' Parquet under <c>curated/</c> through the running pipeline (docs/pipeline.md, "Curated Parquet"): DuckDB
/// over a downloaded copy sums each day and category exactly as the KPI tables hold them, after an upload, after a
/// rejected version (which writes nothing), after a replacement with fewer days (whose vanished days' objects are gone)
/// and after a retraction (none left). A batch on days of its own (April 2013), so that only its data is on them.
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class CuratedParquetTests(EmulatorAppFixture app) : IDisposable
{
    private const string Batch = "curated-orders";
    private static readonly DateOnly FirstDay = new(2013, 4, 1);
    private static readonly DateOnly LastDay = new(2013, 4, 30);

    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task Duckdb_over_curated_equals_the_kpis_after_upload_and_replacement_and_rejected_or_retracted_versions_leave_nothing()
    {
        var ids = PipelineDriver.NewIds();
        var first = PipelineDriver.Generate(400, FirstDay, seed: 131, days: 6, idOffset: ids);
        await _pipeline.SubmitAsync(first, Batch);
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync(Batch)).Status);
        await AssertCuratedEqualsKpisAsync(first, version: 1);

        // A version that breaks a rule, on later days: rejected, it writes nothing, and version 1 stays.
        var broken = PipelineDriver.Generate(200, FirstDay.AddDays(10), seed: 132, days: 3, idOffset: ids);
        var part = Directory.GetFiles(Path.Combine(broken, "orders")).Order().First();
        var lines = File.ReadAllLines(part);
        lines[1] = string.Join(',', lines[1].Split(',').Select((field, i) => i == 2 ? "misplaced" : field));
        File.WriteAllLines(part, lines);
        await _pipeline.SubmitAsync(broken, Batch);
        var rejected = await _pipeline.NextAlertAsync(Batch);
        Assert.Equal((AlertStatus.Rejected, (int?)2), (rejected.Status, rejected.Version));
        await AssertCuratedEqualsKpisAsync(first, version: 1);

        // A replacement with other orders on fewer days: its days replaced, the days it no longer has gone.
        var replacement = PipelineDriver.Generate(250, FirstDay, seed: 133, days: 3, idOffset: ids);
        await _pipeline.SubmitAsync(replacement, Batch);
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync(Batch)).Status);
        await AssertCuratedEqualsKpisAsync(replacement, version: 3);

        await _pipeline.Bus.PublishAsync(new BatchRetractionRequested(Batch, Reason: "curated test", Source: "tests"));
        Assert.Equal(AlertStatus.Retracted, (await _pipeline.NextAlertAsync(Batch)).Status);
        Assert.Empty(await CuratedKeysAsync());
        Assert.Empty(await _pipeline.Kpis.GetDaysAsync(FirstDay, LastDay, CancellationToken.None));
    }

    /// <summary>
    /// The batch's objects are one a day of <paramref name="folder"/>'s items, each naming <paramref name="version"/>; DuckDB
    /// over a downloaded copy of <c>curated/</c> gives, per day and category, the items the engine counts in the folder and
    /// the KPI tables' daily_revenue, and per day their total_revenue, to the last digit.
    /// </summary>
    private async Task AssertCuratedEqualsKpisAsync(string folder, int version)
    {
        var engine = new BatchProcessor().Process(LocalBatchFolder.Open(folder)).Kpis!;
        await _pipeline.AssertKpisEqualAsync(KpiCalculator.Compute(engine));
        var keys = await CuratedKeysAsync();
        Assert.Equal(engine.CategoryDays.Select(c => c.OrderDate).Distinct().Order().Select(day => CuratedPublisher.KeyOf(Batch, day)), keys);

        var copy = Directory.CreateTempSubdirectory("curated-copy-").FullName;
        try
        {
            foreach (var key in keys)
            {
                using var response = await _pipeline.S3.GetObjectAsync(_pipeline.Topology.Bucket.Name, key);
                Assert.Equal($"{version}", response.Metadata[CuratedPublisher.VersionMetadata]);
                await response.WriteResponseStreamToFileAsync(Path.Combine(copy, key), append: false, CancellationToken.None);
            }
            var curated = Sums(copy);
            AssertDocumentedQueryAnswers(copy, curated.Select(c => c.Category).Distinct().Order(StringComparer.Ordinal).ToList());

            Assert.Equal(engine.CategoryDays.GroupBy(c => (c.OrderDate, c.Category)).Select(g => (g.Key.OrderDate, g.Key.Category, Items: g.Sum(c => c.Items)))
                .OrderBy(c => c.OrderDate).ThenBy(c => c.Category, StringComparer.Ordinal), curated.Select(c => (c.Day, c.Category, c.Items)));
            var categoryRows = new List<CategoryKpiRow>();
            foreach (var day in curated.Select(c => c.Day).Distinct())
            {
                categoryRows.AddRange(await _pipeline.Kpis.GetCategoriesOnDayAsync(day, CancellationToken.None));
            }
            Assert.Equal(
                categoryRows.OrderBy(r => r.OrderDate).ThenBy(r => r.Category, StringComparer.Ordinal).Select(r => (r.OrderDate, r.Category, r.DailyRevenue)),
                curated.Select(c => (c.Day, c.Category, c.Revenue)));
            var dayRows = await _pipeline.Kpis.GetDaysAsync(FirstDay, LastDay, CancellationToken.None);
            Assert.Equal(dayRows.Select(r => (r.OrderDate, r.TotalRevenue)),
                curated.GroupBy(c => c.Day).Select(g => (g.Key, g.Sum(c => c.Revenue))));
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    /// <summary>The objects under curated/ on the test's days (April 2013: the batch's only), in key order.</summary>
    private async Task<IReadOnlyList<string>> CuratedKeysAsync() =>
        (await _pipeline.KeysUnderAsync($"{PipelineTopology.CuratedOrderItems.Prefix}{PipelineTopology.CuratedOrderItems.PartitionColumn}=2013-04-"))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// docs/analytics.md's DuckDB example (its first <c>sql</c> block under <c>## DuckDB</c>), run as the doc says, from the folder
    /// that holds <c>curated/</c>: up to three products a category, placed 1, 2, 3 by revenue, for every category there is.
    /// </summary>
    private static void AssertDocumentedQueryAnswers(string copy, IReadOnlyList<string> categories)
    {
        var doc = File.ReadAllText(Path.Combine(RepositoryFolder.Root, "docs", "analytics.md"));
        var section = doc[doc.IndexOf("\n## DuckDB\n", StringComparison.Ordinal)..];
        var start = section.IndexOf("```sql\n", StringComparison.Ordinal) + "```sql\n".Length;
        var query = section[start..section.IndexOf("```", start, StringComparison.Ordinal)];

        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using (var setting = connection.CreateCommand())
        {
            setting.CommandText = $"SET file_search_path = '{copy}'";
            setting.ExecuteNonQuery();
        }
        var rows = connection.Query(query, r => (Category: r.GetString(r.GetOrdinal("category")),
            Place: Convert.ToInt64(r.GetValue(r.GetOrdinal("place")), CultureInfo.InvariantCulture), Revenue: r.GetDecimal(r.GetOrdinal("revenue"))));
        Assert.Equal(categories, rows.Select(r => r.Category).Distinct());
        foreach (var category in rows.GroupBy(r => r.Category))
        {
            Assert.Equal(Enumerable.Range(1, category.Count()).Select(p => (long)p), category.Select(r => r.Place));
            Assert.Equal(category.Select(r => r.Revenue).OrderDescending(), category.Select(r => r.Revenue));
        }
    }

    /// <summary>DuckDB's items and sum(sale_price) per day and category over the Parquet under <paramref name="copy"/>.</summary>
    private static List<(DateOnly Day, string Category, long Items, decimal Revenue)> Sums(string copy)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        return connection.Query($"""
            SELECT CAST(order_date AS VARCHAR) AS day, category, count(*) AS items, sum(sale_price) AS revenue
            FROM read_parquet('{Path.Combine(copy, "curated", "order_items")}/*/*.parquet', hive_partitioning = true)
            GROUP BY ALL ORDER BY day, category
            """, r => (DateOnly.ParseExact(r.GetString(0), "yyyy-MM-dd", CultureInfo.InvariantCulture), r.GetString(1),
                Convert.ToInt64(r.GetValue(2), CultureInfo.InvariantCulture), r.GetDecimal(3)));
    }
}
