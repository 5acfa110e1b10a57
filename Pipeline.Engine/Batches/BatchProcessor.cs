using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Transform;
using Pipeline.Engine.Validation;

namespace Pipeline.Engine.Batches;

/// <summary>The outcome of a batch: its report, and its KPI partial when it was accepted.</summary>
public sealed record BatchResult(ValidationReport Report, KpiPartial? Kpis)
{
    public bool Accepted => Report.Accepted;
}

/// <summary>
/// Validates, enriches and aggregates a batch in one streaming pass. Products and orders are read
/// first (their keys are what items are checked against), then the items; within each phase the
/// parts are read in parallel, each worker with its own KPI accumulator.
/// </summary>
public sealed class BatchProcessor(EngineOptions? options = null)
{
    private readonly EngineOptions _options = options ?? new EngineOptions();

    public BatchResult Process(BatchInput batch, ProgressCounter? progress = null, CancellationToken cancellationToken = default)
    {
        var references = new BatchReferences();
        var kpis = new KpiAccumulator(references.Products.Categories);
        var reports = new List<FileDiagnostics>();

        List<PartJob> productJobs = Jobs(batch, TableKind.Products, "products.csv", reports);
        List<PartJob> orderJobs = Jobs(batch, TableKind.Orders, "orders/", reports);
        List<PartJob> itemJobs = Jobs(batch, TableKind.OrderItems, "order_items/", reports);

        ReadParts([.. productJobs, .. orderJobs], references, kpis, progress, cancellationToken);
        references.ProductsComplete &= productJobs.Count > 0;
        references.OrdersComplete &= orderJobs.Count > 0;
        ReadParts(itemJobs, references, kpis, progress, cancellationToken);

        ValidationReport report = BuildReport(reports);
        return new BatchResult(report, report.Accepted ? kpis.ToPartial() : null);
    }

    private List<PartJob> Jobs(BatchInput batch, TableKind table, string expectedName, List<FileDiagnostics> reports)
    {
        var jobs = batch.Parts
            .Where(part => part.Table == table)
            .Select(part => new PartJob(part, new FileDiagnostics(part.Name, table, _options.MaxReportedErrors)))
            .ToList();
        if (jobs.Count == 0)
        {
            var missing = new FileDiagnostics(expectedName, table, _options.MaxReportedErrors);
            missing.Report(ValidationRule.MissingFile, 0, null, default);
            reports.Add(missing);
        }

        reports.AddRange(jobs.Select(job => job.Diagnostics));
        return jobs;
    }

    private void ReadParts(
        List<PartJob> jobs,
        BatchReferences references,
        KpiAccumulator kpis,
        ProgressCounter? progress,
        CancellationToken cancellationToken)
    {
        // Largest first, handed out one at a time, so the workers finish together.
        PartJob[] schedule = jobs.OrderByDescending(job => job.Part.Length ?? 0).ToArray();
        var parallelOptions = new ParallelOptions
        {
            MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism,
            CancellationToken = cancellationToken,
        };
        try
        {
            Parallel.ForEach(Partitioner.Create(schedule, EnumerablePartitionerOptions.NoBuffering), parallelOptions, job =>
            {
                var partKpis = new KpiAccumulator(references.Products.Categories);
                IRowHandler handler = job.Part.Table switch
                {
                    TableKind.Products => new ProductRowHandler(references),
                    TableKind.Orders => new OrderRowHandler(references, partKpis),
                    _ => new OrderItemRowHandler(references, partKpis),
                };
                bool complete = CsvPartReader.Read(job.Part, handler, job.Diagnostics, _options, progress, cancellationToken);
                lock (references)
                {
                    references.ProductsComplete &= complete || job.Part.Table != TableKind.Products;
                    references.OrdersComplete &= complete || job.Part.Table != TableKind.Orders;
                    kpis.Add(partKpis);
                }
            });
        }
        catch (AggregateException failure) when (failure.InnerExceptions.Count == 1)
        {
            // Callers handle an I/O error as such, not wrapped.
            ExceptionDispatchInfo.Throw(failure.InnerExceptions[0]);
        }
    }

    private ValidationReport BuildReport(List<FileDiagnostics> files)
    {
        long errorCount = files.Sum(file => file.ErrorCount);
        ValidationError[] firstErrors = files.SelectMany(file => file.KeptErrors).Take(_options.MaxReportedErrors).ToArray();
        return new ValidationReport(
            errorCount == 0,
            files.Sum(file => file.RowsRead),
            errorCount,
            files.Select(file => file.ToReport()).ToArray(),
            firstErrors);
    }

    private sealed record PartJob(BatchPart Part, FileDiagnostics Diagnostics);
}
