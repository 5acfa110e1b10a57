using System.CommandLine;
using System.Diagnostics;
using Pipeline.Contracts;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Runs;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline retract &lt;batch&gt; [--reason TEXT]</c>: takes the batch's upload in force out of the KPIs (exactly),
/// by publishing <see cref="BatchRetractionRequested"/> as any producer may; then waits for the outcome and prints it.
/// A batch with nothing in force is reported and left alone.
/// </summary>
internal sealed class RetractCommand : AwsCommand
{
    private readonly Argument<string> _batch = new("batch") { Description = "The batch to retract." };
    private readonly Option<string> _reason = new("--reason")
    {
        Description = "Why, in a sentence (shown in the alert and the run history).",
        DefaultValueFactory = _ => "",
    };
    private readonly Option<int> _wait = new("--wait") { Description = "Seconds to wait for the outcome (0: do not wait).", DefaultValueFactory = _ => 120 };

    public RetractCommand()
        : base("retract", "Take a batch's data out of the KPIs; its files move to retracted/.")
    {
        Arguments.Add(_batch);
        Options.Add(_reason);
        Options.Add(_wait);
    }

    protected override async Task<int> RunAsync(ParseResult result, AwsConnection aws, CancellationToken cancellationToken)
    {
        var batch = result.GetRequiredValue(_batch);
        if (!BatchLayout.IsBatchName(batch))
        {
            throw new ArgumentException($"'{batch}' is not a valid batch name (letters, digits, '.', '_', '-'; at most 100)");
        }
        CliTelemetry.Name("retract", batch);
        var runs = new PipelineRunStore(aws.DynamoDb, aws.Topology, TimeProvider.System);
        var before = await runs.GetHistoryAsync(batch, cancellationToken);
        if (before?.InForce is not { } target)
        {
            Console.Error.WriteLine($"pipeline retract: batch '{batch}' has nothing in force: " +
                (before is null ? "no such batch was ever submitted"
                    : before.AppliedVersion > 0 ? "it is retracted already; nothing changed"
                    : "none of its uploads was accepted"));
            return before is not null && before.AppliedVersion > 0 ? ExitCodes.Accepted : ExitCodes.Failed;
        }

        var stopwatch = Stopwatch.StartNew();
        // The version it means: if another is in force by the time Compute takes the request, it is refused, not retracted.
        await aws.Bus.PublishAsync(
            new BatchRetractionRequested(batch, target.Version, result.GetValue(_reason), DateTimeOffset.UtcNow, "cli"), cancellationToken);

        var deadline = TimeSpan.FromSeconds(result.GetValue(_wait));
        // The reads while waiting are polls, not part of the retraction's trace.
        Activity.Current = null;
        while (stopwatch.Elapsed < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            var history = await runs.GetHistoryAsync(batch, cancellationToken);
            var retraction = history?.Versions.LastOrDefault(v =>
                v.Kind == RunKind.Retraction && v.RetractsVersion == target.Version && v.Version > before.LatestVersion);
            if (retraction is { IsFinished: true })
            {
                Summary.Print(new
                {
                    batch,
                    retracted_version = target.Version,
                    version = retraction.Version,
                    status = retraction.Status.ToString(),
                    summary = retraction.Summary,
                    elapsed_ms = stopwatch.ElapsedMilliseconds,
                });
                return retraction.Status == RunStatus.Succeeded ? ExitCodes.Accepted : ExitCodes.Failed;
            }
        }
        Summary.Print(new { batch, retracted_version = target.Version, status = "requested", elapsed_ms = stopwatch.ElapsedMilliseconds });
        return ExitCodes.Accepted;
    }
}
