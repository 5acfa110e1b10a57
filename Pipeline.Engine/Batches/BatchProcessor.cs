using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Pipeline.Engine.Collections;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Transform;
using Pipeline.Engine.Validation;

namespace Pipeline.Engine.Batches;

/// <summary>The outcome of a batch: its report, and its KPI partial and keys when it was accepted.</summary>
public sealed record BatchResult(ValidationReport Report, KpiPartial? Kpis, BatchKeys? Keys = null)
{
    public bool Accepted => Report.Accepted;
}

/// <summary>The order ids and order item ids of an accepted batch (what makes an order count once across batches).</summary>
public sealed record BatchKeys(IdSet OrderIds, IdSet OrderItemIds);

/// <summary>
/// Validates, enriches and aggregates a batch in one streaming pass. Products and orders are read
/// first (their keys are what items are checked against), then the items; within each phase the
/// parts are read in parallel, each worker with its own KPI accumulator. A batch beyond its limits
/// (<see cref="BatchLimits"/>) is rejected with the limit's rule; what is beyond a limit is never read.
/// </summary>
public sealed class BatchProcessor(EngineOptions? options = null)
{
    private readonly EngineOptions _options = options ?? new EngineOptions();

    /// <param name="output">Receives the validated, enriched records of each orders and items part (the Transform stage writes them out).</param>
    public BatchResult Process(BatchInput batch, ProgressCounter? progress = null, IEnrichedOutput? output = null,
        CancellationToken cancellationToken = default)
    {
        if (_options.Limits.CheckFiles([.. batch.Parts.Select(part => (part.Name, part.Length))]) is { } breach)
        {
            // Too many or too large files: nothing is read.
            var file = new FileDiagnostics(breach.File, batch.Parts.First(part => part.Name == breach.File).Table, _options.MaxReportedErrors);
            file.Report(breach.Rule, 0, null, default, breach.Message);
            return new BatchResult(BuildReport([file]), null);
        }

        var references = new BatchReferences(_options.Limits);
        var reading = new PartReading(progress, new DecompressedBytes(), output);
        var kpis = new KpiAccumulator(references.Products.Categories);
        var reports = new List<FileDiagnostics>();

        List<PartJob> productJobs = Jobs(batch, TableKind.Products, TableNames.ProductsFile, reports);
        List<PartJob> orderJobs = Jobs(batch, TableKind.Orders, TableNames.Orders + "/", reports);
        List<PartJob> itemJobs = Jobs(batch, TableKind.OrderItems, TableNames.OrderItems + "/", reports);

        // Products and orders first: items are checked against them. Products are small and
        // fill one catalog, so they are read one part at a time.
        ReadParts(productJobs, 1, references, kpis, reading, cancellationToken);
        ReadParts(orderJobs, _options.MaxDegreeOfParallelism, references, kpis, reading, cancellationToken);
        references.ProductsComplete &= productJobs.Count > 0;
        references.OrdersComplete &= orderJobs.Count > 0;
        ReadParts(itemJobs, _options.MaxDegreeOfParallelism, references, kpis, reading, cancellationToken);

        ValidationReport report = BuildReport(reports);
        return report.Accepted
            ? new BatchResult(report, kpis.DetachPartial(), new BatchKeys(references.OrderIds, references.ItemIds))
            : new BatchResult(report, null);
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
        int parallelism,
        BatchReferences references,
        KpiAccumulator kpis,
        PartReading reading,
        CancellationToken cancellationToken)
    {
        // Largest first (by the CSV they hold, estimated for a compressed part), handed out one at a time, so the workers
        // finish together. Plain threads that end with the work: nothing spins waiting for more.
        var queue = new ConcurrentQueue<PartJob>(jobs.OrderByDescending(job => PartFormat.EstimatedCsvBytes(job.Part.Name, job.Part.Length)));
        var failures = new ConcurrentQueue<ExceptionDispatchInfo>();
        void Work()
        {
            // One accumulator per worker, merged once: each holds a day's customers as bitmaps, so
            // fewer live accumulators means a lower memory peak.
            var workerKpis = new KpiAccumulator(references.Products.Categories, references.IdRanges);
            while (failures.IsEmpty && queue.TryDequeue(out PartJob? job))
            {
                try
                {
                    ReadPart(job, references, workerKpis, reading, cancellationToken);
                }
                catch (Exception failure)
                {
                    failures.Enqueue(ExceptionDispatchInfo.Capture(failure));
                }
            }

            lock (kpis)
            {
                kpis.Absorb(workerKpis);
            }
        }

        Thread[] helpers = Enumerable.Range(1, Math.Max(0, Math.Min(parallelism, jobs.Count) - 1))
            .Select(_ => new Thread(Work) { IsBackground = true, Name = "pipeline part reader" })
            .ToArray();
        Array.ForEach(helpers, thread => thread.Start());
        Work();
        Array.ForEach(helpers, thread => thread.Join());
        if (failures.TryDequeue(out ExceptionDispatchInfo? first))
        {
            first.Throw(); // callers handle an I/O error as such, not wrapped
        }
    }

    /// <summary>
    /// Reads one part into the worker's KPI accumulator and its own key set, then merges the keys into
    /// the batch's under a short lock; keys already merged from other parts are duplicates across parts.
    /// </summary>
    private void ReadPart(
        PartJob job, BatchReferences references, KpiAccumulator workerKpis, PartReading reading, CancellationToken cancellationToken)
    {
        var partKeys = references.IdRanges.NewSet(job.Part.Table == TableKind.Orders ? IdRangeBudget.OrderIds : IdRangeBudget.ItemIds);
        using IEnrichedRecordWriter? partOutput = job.Part.Table == TableKind.Products ? null : reading.Output?.OpenPart(job.Part);
        (IRowHandler handler, int keyColumn) = job.Part.Table switch
        {
            TableKind.Products => ((IRowHandler)new ProductRowHandler(references), TableSchema.ProductColumn.Id),
            TableKind.Orders => (new OrderRowHandler(references, partKeys, workerKpis, partOutput), TableSchema.OrderColumn.OrderId),
            _ => (new OrderItemRowHandler(references, partKeys, workerKpis, partOutput), TableSchema.OrderItemColumn.Id),
        };
        bool complete = CsvPartReader.Read(job.Part, handler, job.Diagnostics, _options, reading.Progress, reading.Decompressed, cancellationToken);

        List<long> crossPartDuplicates = [];
        lock (references)
        {
            references.KeysOf(job.Part.Table)?.UnionWith(partKeys, crossPartDuplicates, int.MaxValue);
            references.MarkRead(job.Part.Table, complete);
        }

        if (crossPartDuplicates.Count > 0)
        {
            var messages = crossPartDuplicates.Distinct().ToDictionary(id => id, _ => "This key also appears in another part of the batch.");
            FindKeys(job.Part, keyColumn, ValidationRule.DuplicateKey, messages, job.Diagnostics, cancellationToken);
        }
    }

    /// <summary>
    /// Finds the rows of the given order ids or order item ids in the batch's parts of that table, and reports each
    /// under <paramref name="rule"/> with its message: the file and line of keys judged after reading (such as an
    /// order counted in another batch).
    /// </summary>
    public IReadOnlyList<ValidationError> LocateKeys(
        BatchInput batch, TableKind table, string rule, IReadOnlyDictionary<long, string> messages, CancellationToken cancellationToken = default)
    {
        int keyColumn = table == TableKind.Orders ? TableSchema.OrderColumn.OrderId : TableSchema.OrderItemColumn.Id;
        var found = new List<ValidationError>();
        foreach (BatchPart part in batch.Parts.Where(part => part.Table == table))
        {
            var diagnostics = new FileDiagnostics(part.Name, table, messages.Count);
            FindKeys(part, keyColumn, rule, messages, diagnostics, cancellationToken);
            found.AddRange(diagnostics.KeptErrors);
        }
        return found;
    }

    private void FindKeys(
        BatchPart part, int keyColumn, string rule, IReadOnlyDictionary<long, string> messages, FileDiagnostics diagnostics,
        CancellationToken cancellationToken)
    {
        var finder = new KeyFinder(keyColumn, rule, messages, diagnostics);
        var alreadyReported = new FileDiagnostics(part.Name, part.Table, 0);
        CsvPartReader.Read(part, finder, alreadyReported, _options, null, null, cancellationToken);
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

    /// <summary>What the parts of one batch share while they are read: progress, decompressed bytes, where enriched records go.</summary>
    private sealed record PartReading(ProgressCounter? Progress, DecompressedBytes Decompressed, IEnrichedOutput? Output);
}
