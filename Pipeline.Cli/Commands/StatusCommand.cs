using System.CommandLine;
using System.Globalization;
using Pipeline.Storage.Runs;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline status [batch]</c>: a batch's run record (stages, times, counts, outcome, summary), or without a batch
/// the most recent runs.
/// </summary>
internal sealed class StatusCommand : AwsCommand
{
    private static readonly string[] StageOrder = [Stages.Validate, Stages.Transform, Stages.Compute, Stages.Notify];

    private readonly Argument<string?> _batch = new("batch") { Description = "Batch name; omit it to list the most recent runs.", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<int> _last = new("--last") { Description = "How many recent runs to list.", DefaultValueFactory = _ => 20 };

    public StatusCommand()
        : base("status", "Show a batch's run record, or the most recent runs.")
    {
        Arguments.Add(_batch);
        Options.Add(_last);
    }

    protected override async Task<int> RunAsync(ParseResult result, AwsConnection aws, CancellationToken cancellationToken)
    {
        var runs = new PipelineRunStore(aws.DynamoDb, aws.Topology, TimeProvider.System);
        if (result.GetValue(_batch) is not { } batch)
        {
            var recent = await runs.ListRecentAsync(result.GetValue(_last), cancellationToken);
            TextTable.Write(Console.Out, ["batch", "status", "stage", "submitted", "took", "source"], recent.Select(r => (IReadOnlyList<string>)
                [r.BatchId, r.Status.ToString(), r.CurrentStage ?? "-", Time(r.SubmittedAt), Took(r.SubmittedAt, r.FinishedAt), r.Source]));
            return ExitCodes.Accepted;
        }

        var run = await runs.GetAsync(batch, cancellationToken)
            ?? throw new ArgumentException($"no run recorded for batch '{batch}'");
        PrintRun(Console.Out, run);
        return ExitCodes.Accepted;
    }

    private static void PrintRun(TextWriter writer, PipelineRun run)
    {
        TextTable.Write(writer, ["batch", run.BatchId],
        [
            ["status", run.IsFinished ? run.Status.ToString() : $"{run.Status} ({run.CurrentStage ?? "queued"})"],
            ["manifest", $"{run.ManifestKey} (ETag {run.ManifestETag})"],
            ["source", run.Source],
            ["submitted", Time(run.SubmittedAt)],
            ["finished", run.FinishedAt is { } finished ? $"{Time(finished)} (took {Took(run.SubmittedAt, finished)})" : "-"],
        ]);
        writer.WriteLine();

        var stages = run.Stages.OrderBy(s => Array.IndexOf(StageOrder, s.Key) is var i and >= 0 ? i : StageOrder.Length).ThenBy(s => s.Key, StringComparer.Ordinal);
        TextTable.Write(writer, ["stage", "status", "started", "took", "counts", "error"], stages.Select(s => (IReadOnlyList<string>)
        [
            s.Key,
            s.Value.Status,
            Time(s.Value.StartedAt),
            Took(s.Value.StartedAt, s.Value.FinishedAt),
            string.Join(", ", s.Value.Counts.Select(c => $"{c.Key} {c.Value.ToString(CultureInfo.InvariantCulture)}")),
            s.Value.Error ?? "",
        ]));

        if (run.Summary is not null)
        {
            writer.WriteLine();
            writer.WriteLine(run.Summary);
        }
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Took(DateTimeOffset from, DateTimeOffset? to) =>
        to is { } end ? $"{(end - from).TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s" : "-";
}
