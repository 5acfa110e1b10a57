using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Kpis;
using Pipeline.Engine.Validation;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline process &lt;batch-dir&gt; --out &lt;dir&gt;</c>: validation.json always, the two KPI tables
/// when the batch is accepted; a one-line JSON summary on stdout.
/// </summary>
internal sealed class ProcessCommand : Command
{
    private readonly Argument<DirectoryInfo> _batch = new("batch-dir")
    {
        Description = "Folder with products.csv and orders/ and order_items/ parts (or orders.csv and order_items.csv).",
    };
    private readonly Option<DirectoryInfo> _out = new("--out") { Description = "Folder to write validation.json and the KPI tables to.", Required = true };
    private readonly Option<int> _maxLineBytes = new("--max-line-bytes")
    {
        Description = "Longest row accepted, in bytes.",
        DefaultValueFactory = _ => new BatchLimits().MaxLineBytes,
    };

    public ProcessCommand()
        : base("process", "Validate a batch and, when it is accepted, compute its KPI tables.")
    {
        Arguments.Add(_batch);
        Options.Add(_out);
        Options.Add(_maxLineBytes);
        SetAction(result => ExitCodes.Guard(Name, () => Run(result.GetRequiredValue(_batch), result.GetRequiredValue(_out), result.GetValue(_maxLineBytes))));
    }

    private static int Run(DirectoryInfo batchFolder, DirectoryInfo outFolder, int maxLineBytes)
    {
        var stopwatch = Stopwatch.StartNew();
        PrepareReportWriter();
        BatchInput batch = LocalBatchFolder.Open(batchFolder.FullName);
        Directory.CreateDirectory(outFolder.FullName);

        var progress = new ProgressCounter();
        BatchResult result;
        using (TerminalProgress.Show(progress, batch.TotalLength, "read", TerminalProgress.Megabytes))
        {
            result = new BatchProcessor(new EngineOptions { Limits = new BatchLimits { MaxLineBytes = maxLineBytes } }).Process(batch, progress);
        }

        using (FileStream report = File.Create(Path.Combine(outFolder.FullName, "validation.json")))
        {
            ReportJson.Write(report, result.Report);
        }

        if (result.Kpis is { } partial)
        {
            KpiTables tables = KpiCalculator.Compute(partial);
            WriteText(Path.Combine(outFolder.FullName, "category_kpis.csv"), writer => KpiCsv.WriteCategoryKpis(writer, tables.CategoryKpis));
            WriteText(Path.Combine(outFolder.FullName, "order_kpis.csv"), writer => KpiCsv.WriteOrderKpis(writer, tables.OrderKpis));
        }

        Summary.Print(new
        {
            accepted = result.Accepted,
            rows_read = result.Report.RowsRead,
            error_count = result.Report.ErrorCount,
            bytes_read = progress.Done,
            elapsed_ms = stopwatch.ElapsedMilliseconds,
            peak_rss_bytes = Process.GetCurrentProcess().PeakWorkingSet64,
            @out = outFolder.FullName,
        });
        return result.Accepted ? ExitCodes.Accepted : ExitCodes.Rejected;
    }

    /// <summary>
    /// The report's first serialization spends ~60 ms compiling, on one core, after the batch. The second
    /// core idles while the command starts and the products are read (one part, one worker): it compiles it there.
    /// </summary>
    private static void PrepareReportWriter()
    {
        var sample = new ValidationReport(
            false, 1, 1,
            [new FileReport(TableNames.ProductsFile, TableKind.Products, 1, new Dictionary<string, long> { [ValidationRule.MissingFile] = 1 })],
            [new ValidationError(TableNames.ProductsFile, 0, null, null, ValidationRule.MissingFile, "")]);
        new Thread(() => ReportJson.Write(Stream.Null, sample)) { IsBackground = true, Name = "pipeline report warm-up" }.Start();
    }

    private static void WriteText(string path, Action<TextWriter> write)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        write(writer);
    }
}
