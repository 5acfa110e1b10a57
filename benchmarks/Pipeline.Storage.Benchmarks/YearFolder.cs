using System.Diagnostics;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;
using static Benchmarks.Figures;

namespace Pipeline.Storage.Benchmarks;

/// <summary>
/// Folds the days of a <see cref="YearBenchmark.YearPlan"/> into the KPI store, each batch as Compute does (its
/// contribution written, then folded) with the run record the stages keep for it, and adds up the KPI store's requests.
/// </summary>
internal sealed class YearFolder(YearBenchmark.YearPlan plan, DynamoKpiStore kpis, PipelineRunStore runs, DynamoDbMeter meter)
{
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(30);

    /// <summary>The KPI store's requests of every batch folded so far.</summary>
    public Metered Totals { get; private set; } = new(0, 0, 0, 0, 0, 0, "");

    /// <summary>Folds a day's batches one after the other, metering each on its own.</summary>
    public async Task<IReadOnlyList<Metered>> FoldMeteredDayAsync(int day)
    {
        var batches = new List<Metered>();
        for (var batch = 0; batch < plan.BatchesPerDay; batch++)
        {
            meter.Clear();
            await FoldAsync(day, batch, CancellationToken.None);
            var metered = Metered.Of(meter);
            batches.Add(metered);
            Totals += metered;
        }
        return batches;
    }

    /// <summary>Folds <paramref name="count"/> days from <paramref name="from"/>, a few days at once, reporting progress.</summary>
    public async Task FoldDaysAsync(int from, int count, Stopwatch clock)
    {
        meter.Clear();
        var done = 0;
        var reported = clock.Elapsed;
        var started = clock.Elapsed;
        await Parallel.ForEachAsync(Enumerable.Range(from, count), new ParallelOptions { MaxDegreeOfParallelism = plan.Concurrency }, async (day, ct) =>
        {
            for (var batch = 0; batch < plan.BatchesPerDay; batch++)
            {
                await FoldAsync(day, batch, ct);
            }
            var finished = Interlocked.Increment(ref done);
            var now = clock.Elapsed;
            if (now - reported >= ProgressEvery || finished == count)
            {
                reported = now;
                var left = (now - started) / finished * (count - finished);
                Console.WriteLine($"  days done {finished + 1}/{plan.Days}, elapsed {now:hh\\:mm\\:ss}, ETA {left:hh\\:mm\\:ss} (load {LoadAverage()})");
            }
        });
        Totals += Metered.Of(meter);
    }

    private async Task FoldAsync(int dayIndex, int batch, CancellationToken cancellationToken)
    {
        var day = YearBenchmark.YearPlan.Day(dayIndex);
        var batchId = YearBenchmark.BatchId(day, batch);
        var data = SyntheticDayBatch.Build(day, plan.OrdersPerBatch, plan.Customers, seed: dayIndex * 1_000 + batch);
        var begun = await runs.BeginUploadAsync(new UploadStart(batchId, $"incoming/{batchId}/manifest.json", null, $"content-{batchId}", null,
            "year-benchmark", DateTimeOffset.UtcNow, $"message-{batchId}"), cancellationToken);
        var version = begun.Run.Version;
        foreach (var stage in new[] { Stages.Validate, Stages.Transform, Stages.Compute })
        {
            await runs.StartStageAsync(batchId, version, stage, cancellationToken);
        }
        var fold = await kpis.AddBatchAsync(batchId, version, data, cancellationToken);
        await runs.RecordFoldAsync(batchId, version, fold.AppliedVersion, RunStatus.Replaced, cancellationToken);
        var record = new StageRecord(StageStatus.Succeeded, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow,
            new Dictionary<string, long> { ["orders"] = plan.OrdersPerBatch, ["days"] = fold.Days.Count });
        await runs.SucceedAsync(batchId, version, $"{plan.OrdersPerBatch} orders folded in.", Stages.Compute, record, cancellationToken);
        await runs.RecordNotifiedAsync(batchId, version, record with { Counts = new Dictionary<string, long>() }, cancellationToken);
    }
}
