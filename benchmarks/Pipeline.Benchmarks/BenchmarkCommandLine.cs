using System.CommandLine;
using Pipeline.Engine.Csv;

namespace Pipeline.Benchmarks;

/// <summary>
/// <c>process</c>: end-to-end runs of <c>pipeline process</c> (and optionally DuckDB, or the same batch gzipped) on generated data;
/// <c>warm</c>: the engine run repeatedly in one process (compile cost against the work alone);
/// <c>parsers</c>: the CSV parser comparison; <c>duckdb</c>: one DuckDB run, used as a child process;
/// <c>parquet</c>: the curated Parquet written by ParquetSharp (the product's writer) and by Parquet.Net (<c>parquet-write</c>: one run, as a child).
/// </summary>
internal static class BenchmarkCommandLine
{
    public static RootCommand Create()
    {
        var orders = new Option<long>("--orders") { Description = "Orders to generate.", DefaultValueFactory = _ => 1_000_000 };
        var parts = new Option<int>("--parts") { Description = "Parts per table.", DefaultValueFactory = _ => 8 };
        var runs = new Option<int>("--runs") { Description = "Timed runs of each contender.", DefaultValueFactory = _ => 3 };
        var dataRoot = new Option<DirectoryInfo>("--data-root")
        {
            Description = "Where generated batches are kept between runs.",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(Path.GetTempPath(), "pipeline-bench")),
        };
        var duckDb = new Option<bool>("--duckdb") { Description = "Also run DuckDB on the same files." };

        var gzip = new Option<bool>("--gzip") { Description = "Also time the same batch gzipped (.csv.gz), against the plain files." };

        var process = new Command("process", "Time `pipeline process` end to end on a generated batch.") { orders, parts, runs, dataRoot, duckDb, gzip };
        process.SetAction(result => EndToEnd.Run(
            BenchmarkData.Ensure(result.GetRequiredValue(dataRoot), result.GetValue(orders), result.GetValue(parts)),
            result.GetValue(runs),
            result.GetValue(duckDb),
            result.GetValue(gzip)
                ? BenchmarkData.Ensure(result.GetRequiredValue(dataRoot), result.GetValue(orders), result.GetValue(parts), PartCompression.Gzip)
                : null));

        var parsers = new Command("parsers", "Compare Sep, Sylvan and CsvHelper on the generated order items.") { orders, parts, runs, dataRoot };
        parsers.SetAction(result =>
        {
            string batch = BenchmarkData.Ensure(result.GetRequiredValue(dataRoot), result.GetValue(orders), result.GetValue(parts));
            ParserComparison.Run(Directory.GetFiles(Path.Combine(batch, "order_items"), "*.csv").Order().ToArray(), result.GetValue(runs));
        });

        var threads = new Option<int>("--threads") { Description = "Parts read at the same time.", DefaultValueFactory = _ => 1 };
        var warm = new Command("warm", "Run the engine several times in one process: what compiling costs, and the work alone.")
        {
            orders, parts, runs, dataRoot, threads,
        };
        warm.SetAction(result => WarmEngine.Run(
            BenchmarkData.Ensure(result.GetRequiredValue(dataRoot), result.GetValue(orders), result.GetValue(parts)),
            result.GetValue(runs),
            result.GetValue(threads)));

        var batchDir = new Argument<DirectoryInfo>("batch-dir");
        var outDir = new Argument<DirectoryInfo>("out-dir");
        var duckDbChild = new Command("duckdb", "One DuckDB run: validation counts and both KPI tables.") { batchDir, outDir };
        duckDbChild.SetAction(result => DuckDbContender.Run(result.GetRequiredValue(batchDir).FullName, result.GetRequiredValue(outDir).FullName));

        var parquet = new Command("parquet", "Write a batch's curated order items as Parquet with ParquetSharp (the product's writer) and with Parquet.Net.")
        {
            orders, parts, runs, dataRoot,
        };
        parquet.SetAction(result => ParquetComparison.Run(
            BenchmarkData.Ensure(result.GetRequiredValue(dataRoot), result.GetValue(orders), result.GetValue(parts)), result.GetValue(runs)));

        var contender = new Argument<string>("contender");
        var itemsFile = new Argument<FileInfo>("items-file");
        var parquetChild = new Command("parquet-write", "One Parquet writing run (a child of parquet).") { contender, itemsFile, outDir };
        parquetChild.SetAction(result => ParquetComparison.Write(
            result.GetRequiredValue(contender), result.GetRequiredValue(itemsFile).FullName, result.GetRequiredValue(outDir).FullName));

        return new RootCommand("Benchmarks of the pipeline engine.") { process, warm, parsers, duckDbChild, parquet, parquetChild };
    }
}
