using System.CommandLine;
using System.Globalization;
using Pipeline.Storage.Runs;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline status [batch] [--version N]</c>: a batch's history (every version: upload or retraction, its status,
/// which one is in force) and one version's run record (stages, times, counts, outcome); without a batch, the most
/// recent versions of any batch.
/// </summary>
internal sealed class StatusCommand : AwsCommand
{
    private static readonly string[] StageOrder = [Stages.Validate, Stages.Transform, Stages.Compute, Stages.Notify];

    private readonly Argument<string?> _batch = new("batch")
    {
        Description = "Batch name; omit it to list the most recent runs.",
        Arity = ArgumentArity.ZeroOrOne,
    };
    private readonly Option<int?> _version = new("--version") { Description = "Which version of the batch to detail (default: the latest)." };
    private readonly Option<int> _last = new("--last") { Description = "How many recent runs to list.", DefaultValueFactory = _ => 20 };

    public StatusCommand()
        : base("status", "Show a batch's versions and run record, or the most recent runs.")
    {
        Arguments.Add(_batch);
        Options.Add(_version);
        Options.Add(_last);
    }

    protected override async Task<int> RunAsync(ParseResult result, AwsConnection aws, CancellationToken cancellationToken)
    {
        var runs = new PipelineRunStore(aws.DynamoDb, aws.Topology, TimeProvider.System);
        if (result.GetValue(_batch) is not { } batch)
        {
            var recent = await runs.ListRecentAsync(result.GetValue(_last), cancellationToken);
            TextTable.Write(Console.Out, ["batch", "version", "status", "stage", "submitted", "took", "source"], recent.Select(r => (IReadOnlyList<string>)
                [r.BatchId, Version(r), r.Status.ToString(), r.CurrentStage ?? "-", Time(r.SubmittedAt), Took(r.SubmittedAt, r.FinishedAt), r.Source]));
            return ExitCodes.Accepted;
        }

        var history = await runs.GetHistoryAsync(batch, cancellationToken)
            ?? throw new ArgumentException($"no run recorded for batch '{batch}'");
        var wanted = result.GetValue(_version);
        var run = wanted is { } version
            ? history.Versions.SingleOrDefault(v => v.Version == version) ?? throw new ArgumentException($"batch '{batch}' has no version {version}")
            : history.Latest;
        PrintHistory(Console.Out, history);
        if (run is not null)
        {
            Console.Out.WriteLine();
            PrintRun(Console.Out, run);
        }
        return ExitCodes.Accepted;
    }

    private static void PrintHistory(TextWriter writer, BatchHistory history)
    {
        var inForce = history.InForce;
        writer.WriteLine($"batch {history.BatchId}: " + (inForce is not null ? $"version {inForce.Version} in force"
            : history.AppliedVersion > 0 ? $"retracted (version {history.AppliedVersion})" : "nothing in force"));
        TextTable.Write(writer, ["version", "kind", "status", "submitted", "took", "source", "content"], history.Versions.Select(v => (IReadOnlyList<string>)
        [
            Version(v), v.Kind.ToString().ToLowerInvariant(), v.Status.ToString() + (v.ChangedBy is { } by ? $" by v{by}" : ""),
            Time(v.SubmittedAt), Took(v.SubmittedAt, v.FinishedAt), v.Source,
            v.Kind == RunKind.Upload ? v.ContentId[..Math.Min(12, v.ContentId.Length)] : $"v{v.RetractsVersion}",
        ]));
        foreach (var late in history.Superseded)
        {
            writer.WriteLine($"superseded before processing: manifest ETag {late.ManifestETag} from {late.Source}, submitted {Time(late.SubmittedAt)}");
        }
    }

    private static void PrintRun(TextWriter writer, PipelineRun run)
    {
        TextTable.Write(writer, ["version", Version(run)],
        [
            ["status", run.IsFinished ? run.Status.ToString() : $"{run.Status} ({run.CurrentStage ?? "queued"})"],
            ["manifest", $"{run.ManifestKey}{(run.ManifestETag is null ? "" : $" (ETag {run.ManifestETag})")}"],
            ["content", run.ContentId],
            ["source", run.Source],
            ["attempt", run.Attempt.ToString(CultureInfo.InvariantCulture)],
            ["submitted", Time(run.SubmittedAt)],
            ["finished", run.FinishedAt is { } finished ? $"{Time(finished)} (took {Took(run.SubmittedAt, finished)})" : "-"],
        ]);
        writer.WriteLine();

        var stages = run.Stages
            .OrderBy(s => Array.IndexOf(StageOrder, s.Key) is var i and >= 0 ? i : StageOrder.Length)
            .ThenBy(s => s.Key, StringComparer.Ordinal);
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

    private static string Version(PipelineRun run) => $"v{run.Version.ToString(CultureInfo.InvariantCulture)}";

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Took(DateTimeOffset from, DateTimeOffset? to) =>
        to is { } end ? $"{(end - from).TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s" : "-";
}
