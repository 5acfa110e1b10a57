using System.CommandLine;
using System.Diagnostics;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Generation;

namespace Pipeline.Cli.Commands;

/// <summary><c>pipeline generate &lt;dir&gt; --orders N</c>: deterministic synthetic batch shaped like the seed data.</summary>
internal sealed class GenerateCommand : Command
{
    private readonly Argument<DirectoryInfo> _directory = new("dir") { Description = "Folder to write the batch to (created if missing)." };
    private readonly Option<long> _orders = new("--orders") { Description = "Number of orders.", Required = true };
    private readonly Option<int> _parts = new("--parts") { Description = "Parts per table.", DefaultValueFactory = _ => 4 };
    private readonly Option<ulong> _seed = new("--seed")
    {
        Description = "Random seed; the same options give the same files.",
        DefaultValueFactory = _ => 42UL,
    };
    private readonly Option<int> _days = new("--days") { Description = "Days the orders spread over, from 2025-03-08.", DefaultValueFactory = _ => 31 };
    private readonly Option<int> _products = new("--products") { Description = "Number of products.", DefaultValueFactory = _ => 10_000 };
    private readonly Option<long> _idOffset = new("--id-offset")
    {
        Description = "Order and item ids start after this (default 0). Batches counted together need ids of their own.",
        DefaultValueFactory = _ => 0L,
    };

    private readonly Option<bool> _gzip = new("--gzip") { Description = "Write every file gzipped (.csv.gz)." };
    private readonly Option<bool> _zstd = new("--zstd") { Description = "Write every file compressed with Zstandard (.csv.zst)." };

    public GenerateCommand()
        : base("generate", "Write a synthetic batch (products.csv, orders/, order_items/; compressed with --gzip or --zstd).")
    {
        Arguments.Add(_directory);
        Options.Add(_orders);
        Options.Add(_parts);
        Options.Add(_seed);
        Options.Add(_days);
        Options.Add(_products);
        Options.Add(_idOffset);
        Options.Add(_gzip);
        Options.Add(_zstd);
        Validators.Add(result =>
        {
            if (result.GetValue(_gzip) && result.GetValue(_zstd))
            {
                result.AddError("--gzip and --zstd cannot be given together.");
            }
        });
        SetAction(result => ExitCodes.Guard(Name, () => Run(
            result.GetRequiredValue(_directory),
            new GeneratorOptions(result.GetValue(_orders), result.GetValue(_parts), result.GetValue(_seed), result.GetValue(_days), result.GetValue(_products))
            {
                IdOffset = result.GetValue(_idOffset),
                Compression = result.GetValue(_gzip) ? PartCompression.Gzip : result.GetValue(_zstd) ? PartCompression.Zstd : PartCompression.None,
            })));
    }

    private static int Run(DirectoryInfo directory, GeneratorOptions options)
    {
        var stopwatch = Stopwatch.StartNew();
        var progress = new ProgressCounter();
        GenerationSummary summary;
        using (TerminalProgress.Show(progress, options.Orders, "wrote", TerminalProgress.Orders))
        {
            summary = SyntheticBatchGenerator.Generate(directory.FullName, options, progress);
        }

        Summary.Print(new
        {
            products = summary.Products,
            orders = summary.Orders,
            items = summary.Items,
            bytes = summary.Bytes,
            elapsed_ms = stopwatch.ElapsedMilliseconds,
            @out = directory.FullName,
        });
        return ExitCodes.Accepted;
    }
}
