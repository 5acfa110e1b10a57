using System.Text.Json;
using Amazon.S3;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Validation;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Runs;
using Pipeline.Topology;

namespace Services.Dashboard.Reading;

/// <summary>A version of a batch in the runs list.</summary>
/// <param name="Orders">Order rows read by validation (null before it finished).</param>
public sealed record RunSummary(
    string BatchId, int Version, RunKind Kind, RunStatus Status, string Source, DateTimeOffset SubmittedAt,
    DateTimeOffset? FinishedAt, double? DurationSeconds, string? CurrentStage, long? Orders, long? OrderItems);

/// <summary>The recent versions of any batch, and those running now.</summary>
public sealed record RunsOverview(IReadOnlyList<RunSummary> Recent, IReadOnlyList<RunSummary> Running);

public sealed record StageDetail(
    string Name, string Status, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, double? DurationSeconds,
    IReadOnlyDictionary<string, long> Counts, string? Error);

/// <param name="Report">The validation report from S3 (rule, file, line, column, value, message of the first errors); null when it cannot be read.</param>
public sealed record RejectionDetail(string Reason, long ErrorCount, IReadOnlyList<string> FirstErrors, string? ReportKey, ValidationReport? Report);

public sealed record VersionDetail(
    int Version, RunKind Kind, RunStatus Status, bool InForce, int? ChangedBy, int? RetractsVersion, string Source, string ManifestKey,
    DateTimeOffset SubmittedAt, DateTimeOffset? FinishedAt, double? DurationSeconds, string? CurrentStage, int Attempt, string? Summary,
    IReadOnlyList<StageDetail> Stages, RejectionDetail? Rejection);

/// <summary>A batch name's versions, oldest first (the newest <see cref="RunReader.VersionsShown"/> and the one in force), and the one in force.</summary>
public sealed record BatchDetail(string BatchId, int LatestVersion, int? InForceVersion, IReadOnlyList<VersionDetail> Versions);

/// <summary>Reads run records through the run store, and rejected versions' reports from S3.</summary>
public sealed class RunReader(PipelineRunStore runs, IAmazonS3 s3, PipelineTopology topology, TimeProvider clock)
{
    /// <summary>How long one read of the running versions serves every open health page.</summary>
    public static readonly TimeSpan RunningReadInterval = TimeSpan.FromSeconds(5);

    private static readonly string[] StageOrder = [Stages.Validate, Stages.Transform, Stages.Compute, Stages.Notify];

    private readonly SharedRead<IReadOnlyList<RunSummary>> _running = new(
        async () => (await runs.ListRunningAsync(CancellationToken.None).ConfigureAwait(false)).OrderByDescending(r => r.SubmittedAt).Select(Summary).ToList(),
        clock, RunningReadInterval);

    /// <summary>
    /// The <paramref name="limit"/> newest versions and every running one: two index queries that read those versions
    /// only, however many runs the table holds.
    /// </summary>
    public async Task<RunsOverview> OverviewAsync(int limit, CancellationToken cancellationToken)
    {
        var recent = runs.ListRecentAsync(limit, cancellationToken);
        var running = runs.ListRunningAsync(cancellationToken);
        return new RunsOverview(
            (await recent.ConfigureAwait(false)).Select(Summary).ToList(),
            (await running.ConfigureAwait(false)).OrderByDescending(r => r.SubmittedAt).Select(Summary).ToList());
    }

    /// <summary>
    /// The versions running now (the open-runs index), read at most once per <see cref="RunningReadInterval"/>
    /// however many pages ask; a read that failed is made again by the next caller.
    /// </summary>
    public Task<IReadOnlyList<RunSummary>> RunningAsync() => _running.GetAsync();

    /// <summary>The versions of a batch its page and the API show: the newest, and the one in force if older (a page reloads on every alert).</summary>
    public const int VersionsShown = 50;

    /// <summary>
    /// The batch's newest <see cref="VersionsShown"/> versions (and the one in force) with each rejected version's report;
    /// null for a name never seen.
    /// </summary>
    public async Task<BatchDetail?> BatchAsync(string batchId, CancellationToken cancellationToken)
    {
        if (await runs.GetRecentHistoryAsync(batchId, VersionsShown, cancellationToken).ConfigureAwait(false) is not { } history)
        {
            return null;
        }
        var inForce = history.InForce?.Version;
        var versions = await Task.WhenAll(history.Versions.Select(async v => new VersionDetail(
            v.Version, v.Kind, v.Status, v.Version == inForce, v.ChangedBy, v.RetractsVersion, v.Source, v.ManifestKey,
            v.SubmittedAt, v.FinishedAt, Seconds(v.SubmittedAt, v.FinishedAt), v.CurrentStage, v.Attempt, v.Summary,
            v.Stages.OrderBy(s => Array.IndexOf(StageOrder, s.Key)).Select(s => new StageDetail(
                s.Key, s.Value.Status, s.Value.StartedAt, s.Value.FinishedAt, Seconds(s.Value.StartedAt, s.Value.FinishedAt),
                s.Value.Counts, s.Value.Error)).ToList(),
            v.Rejection is { } r
                ? new RejectionDetail(
                    r.Reason, r.ErrorCount, r.FirstErrors, r.ReportKey, await ReportAsync(r.ReportKey, cancellationToken).ConfigureAwait(false))
                : null))).ConfigureAwait(false);
        return new BatchDetail(history.BatchId, history.LatestVersion, inForce, versions);
    }

    private async Task<ValidationReport?> ReportAsync(string? key, CancellationToken cancellationToken)
    {
        if (key is null)
        {
            return null;
        }
        try
        {
            using var response = await s3.GetObjectAsync(topology.Bucket.Name, key, cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync<ValidationReport>(response.ResponseStream, ReportJson.Options, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (AmazonS3Exception)
        {
            return null; // a rejection whose report was never written (the version died first), or S3 failing now: the rest of the page still shows
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static RunSummary Summary(PipelineRun run)
    {
        var validate = run.Stages.GetValueOrDefault(Stages.Validate);
        return new RunSummary(run.BatchId, run.Version, run.Kind, run.Status, run.Source, run.SubmittedAt, run.FinishedAt,
            Seconds(run.SubmittedAt, run.FinishedAt), run.CurrentStage,
            validate?.Counts.GetValueOrDefault(TableNames.Orders), validate?.Counts.GetValueOrDefault(TableNames.OrderItems));
    }

    private static double? Seconds(DateTimeOffset start, DateTimeOffset? end) => end is { } e ? (e - start).TotalSeconds : null;

    /// <summary>Why <paramref name="name"/> cannot name a batch (the API's 400 and the batch page say the same); null when it can.</summary>
    public static string? WhyNotABatchName(string name) =>
        BatchLayout.IsBatchName(name) ? null : $"'{name}' is not a batch name (1-100 letters, digits, '.', '_' or '-').";
}
