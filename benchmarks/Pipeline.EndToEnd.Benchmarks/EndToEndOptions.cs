using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>What one run of the benchmark measures, from its command line.</summary>
/// <param name="SeedOnly">The seed batches without the large batch.</param>
/// <param name="LargeOrders">Orders in the large batch.</param>
/// <param name="AwsLatency">Every AWS call of the services through the proxy, delayed as AWS would (<see cref="AwsLatencyPlan"/>).</param>
/// <param name="Replicas">Instances of each service; null: one, and in the small-batches mode one and then two.</param>
/// <param name="SmallBatches">The small-batches mode: this many seed-sized batches dropped at once; null: the latency mode.</param>
/// <param name="Calls">Only the first seed batch and one warm one, for the services' AWS calls of a seed batch (by operation, from their spans).</param>
/// <param name="Gzip">After the large batch, the same number of orders gzipped (<c>.csv.gz</c>), set against it.</param>
/// <param name="Parquet">The curated mode: the large batch with curated Parquet off, then on (<see cref="CuratedParquetBenchmark"/>).</param>
internal sealed record EndToEndOptions(
    bool SeedOnly, long LargeOrders, bool AwsLatency, int? Replicas, int? SmallBatches, bool Calls = false, bool Gzip = false, bool Parquet = false)
{
    public static RootCommand Command()
    {
        var seedOnly = new Option<bool>("--seed-only") { Description = "Only the seed batches: no large batch." };
        var calls = new Option<bool>("--calls")
        {
            Description = "Only the first seed batch and one warm one: the services' AWS calls of a seed batch, by operation.",
        };
        var gzip = new Option<bool>("--gzip") { Description = "After the large batch, time as many orders gzipped (.csv.gz) against it." };
        var parquet = new Option<bool>("--parquet")
        {
            Description = "Only the large batch, with Compute's curated Parquet off and then on (a fresh app each): "
                + "the time it adds, and its size against the CSV.",
        };
        var orders = new Option<long>("--orders") { Description = "Orders in the large batch.", DefaultValueFactory = _ => 1_000_000 };
        var awsLatency = new Option<bool>("--aws-latency")
        {
            Description = "Add AWS's own per-call latency (per service and operation) to every AWS call the services make.",
        };
        var replicas = new Option<int?>("--replicas") { Description = "Instances of each service (1 to 4; default 1, and 1 then 2 with --small-batches)." };
        var smallBatches = new Option<int?>("--small-batches")
        {
            Description = "Throughput instead: drop this many seed-sized batches at once (100 if no number) and time them to the last alert.",
            Arity = ArgumentArity.ZeroOrOne,
            // Given without a number (no tokens to parse): 100; not given at all: null.
            DefaultValueFactory = result => result.Parent is OptionResult { Implicit: false } ? 100 : null,
            CustomParser = result =>
            {
                if (int.TryParse(result.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= 1_000)
                {
                    return count;
                }
                result.AddError($"--small-batches takes a number of batches from 1 to 1000, not '{result.Tokens[0].Value}'.");
                return null;
            },
        };
        orders.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<long>() < 1)
            {
                result.AddError("--orders must be at least 1.");
            }
        });
        replicas.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1 or > 4)
            {
                result.AddError("--replicas must be 1 to 4: each instance is a process on the same cores.");
            }
        });

        var command = new RootCommand(
            "Times the running pipeline end to end on the local emulators: the seed batch from submit to its Succeeded alert, " +
            "a large batch and its replacement, or many small batches dropped at once. See docs/pipeline-performance.md.")
        {
            seedOnly, orders, awsLatency, replicas, smallBatches, calls, gzip, parquet, ColdEngine.Child(),
        };
        command.SetAction((result, cancellationToken) => EndToEndBenchmark.RunAsync(new EndToEndOptions(
            result.GetValue(seedOnly), result.GetValue(orders), result.GetValue(awsLatency), result.GetValue(replicas), result.GetValue(smallBatches),
            result.GetValue(calls), result.GetValue(gzip), result.GetValue(parquet)),
            cancellationToken));
        return command;
    }

    /// <summary>"seed and 1,000,000-order batches, AWS-like latency, 1 replica": the mode, for the report's first and last line.</summary>
    public override string ToString() =>
        (SmallBatches is { } count ? $"{count} small batches dropped at once"
            : Parquet ? $"a {LargeOrders:N0}-order batch with curated Parquet off, then on"
            : Calls ? "the first seed batch and one warm one, for their AWS calls"
            : SeedOnly ? "seed batches" : $"seed and {LargeOrders:N0}-order batches") +
        (AwsLatency ? ", AWS-like latency" : ", no added latency") +
        Replicas switch
        {
            { } n => $", {n} replica{(n == 1 ? "" : "s")} per service",
            null when SmallBatches is null => ", 1 replica per service",
            null => ", 1 then 2 replicas per service",
        };
}
