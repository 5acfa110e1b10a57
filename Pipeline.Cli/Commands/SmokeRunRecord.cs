using System.Globalization;
using Pipeline.Storage.Runs;

namespace Pipeline.Cli.Commands;

/// <summary>A smoke run that failed: what went wrong, in a sentence, and the exit code.</summary>
internal sealed class SmokeFailure(string message, int exitCode = ExitCodes.Failed) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>What a smoke run did, for its summary line.</summary>
internal sealed record SmokeOutcome(
    SmokeBatch Batch, int Version, int RetractionVersion, IReadOnlyList<int> EarlierVersions, TimeSpan Succeeded, TimeSpan Retracted, TimeSpan Elapsed);

/// <summary>What a smoke run reads in a version's run record, in words: its alert, its rejection, where it is, its stages' times.</summary>
internal static class SmokeRunRecord
{
    private static readonly string[] StageOrder = [Stages.Validate, Stages.Transform, Stages.Compute, Stages.Notify];

    /// <summary>
    /// The alert announcing the version's outcome was sent. The Notifier notes each alert on its version, the subject as the
    /// error unless it is a Succeeded alert; a note begun after the version finished is its outcome's alert (as the
    /// Notifier's watcher itself tells a failure already announced), not a Failed alert from before a resumption.
    /// </summary>
    public static bool Alerted(PipelineRun run) =>
        run.Stages.TryGetValue(Stages.Notify, out var notify) && (notify.Error is null || notify.StartedAt >= run.FinishedAt);

    /// <summary>The rejection's reason, with its first error when the reason does not quote it already.</summary>
    public static string RejectionReason(PipelineRun run) => run.Rejection switch
    {
        null => run.Summary ?? "no reason recorded",
        { FirstErrors: [var first, ..] } rejection when !rejection.Reason.Contains(first, StringComparison.Ordinal) => $"{rejection.Reason}; first: {first}",
        var rejection => rejection.Reason,
    };

    /// <summary>Where a running version is: "in transform since 10:02:03Z", or "waiting for compute (is Compute running?)".</summary>
    public static string Whereabouts(PipelineRun run)
    {
        if (StageOrder.FirstOrDefault(s => run.Stages.TryGetValue(s, out var r) && r.Status == StageStatus.Running) is { } busy)
        {
            return $"in {busy} since {run.Stages[busy].StartedAt.UtcDateTime.ToString("HH:mm:ss'Z'", CultureInfo.InvariantCulture)}";
        }
        var next = StageOrder.FirstOrDefault(s => !run.Stages.ContainsKey(s)) ?? Stages.Notify;
        var service = next == Stages.Notify ? "the Notifier" : char.ToUpperInvariant(next[0]) + next[1..];
        return $"waiting for {next} (is {service} running?)";
    }

    public static string StageTimes(PipelineRun run) => string.Join(", ", StageOrder
        .Where(s => s != Stages.Notify && run.Stages.ContainsKey(s))
        .Select(s => $"{s} {Took(run.Stages[s].StartedAt, run.Stages[s].FinishedAt)}"));

    public static string Took(DateTimeOffset from, DateTimeOffset? to) => to is { } end ? Format(end - from) : "-";

    public static string Format(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.###} s");
}
