using System.Diagnostics;
using System.Globalization;
using Pipeline.Contracts;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Kpis;
using Pipeline.Storage.Runs;
using static Pipeline.Cli.Commands.SmokeRunRecord;

namespace Pipeline.Cli.Commands;

/// <summary>
/// One <c>pipeline smoke</c>: checks that the smoke batch's days hold no one else's KPIs, submits a fresh
/// <see cref="SmokeBatch"/>, waits until its version has succeeded and its Succeeded alert was sent, compares the KPIs
/// read back with the engine's, retracts the version and waits for that and its Retracted alert, and checks that the
/// days have no KPIs again. Each step is a line on stderr with the time since the start.
/// <para>
/// It follows the batch's run record, not the alerts: the Notifier records an alert on the version (its <c>notify</c>
/// stage) only once SNS has taken it, so the record says both what happened and that the alert went out. Reading the
/// alerts inbox queue instead would take other people's alerts out of view while looking for ours, and each receive
/// counts towards the queue's redrive limit: enough smoke runs would move alerts that are not ours to its dead-letter queue.
/// </para>
/// </summary>
internal sealed class SmokeRun(AwsConnection aws, TimeSpan timeout)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly PipelineRunStore _runs = new(aws.DynamoDb, aws.Topology, TimeProvider.System);
    private readonly KpiQueries _kpis = new(aws.DynamoDb, aws.Topology);
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>The command's span: messages are sent in it (so the batch's trace starts at the command), the polls outside it.</summary>
    private readonly Activity? _root = Activity.Current;

    private static string Name => SmokeBatch.Name;

    private static string Days => $"{Day(SmokeBatch.FirstDay)} to {Day(SmokeBatch.LastDay)}";

    public async Task<SmokeOutcome> RunAsync(string folder, CancellationToken cancellationToken)
    {
        try
        {
            var earlier = await CheckDaysAsync(cancellationToken);
            var categoriesBefore = await _kpis.ListCategoriesAsync(cancellationToken);
            var batch = SmokeBatch.Generate(folder, categoriesBefore, (ulong)Random.Shared.NextInt64(1, long.MaxValue));
            Step($"generated {batch.Orders} orders and {batch.Items} items (seed {batch.Seed}; categories {string.Join(", ", batch.Categories)}): " +
                $"the engine computes {batch.Expected.OrderKpis.Count} order KPI rows and {batch.Expected.CategoryKpis.Count} category KPI rows");

            var submitted = _clock.Elapsed;
            var uploaded = await SubmitAsync(batch, cancellationToken);
            var version = await WaitForSuccessAsync(uploaded, cancellationToken);
            var succeeded = _clock.Elapsed - submitted;

            var differences = await CompareKpisAsync(batch.Expected, cancellationToken);
            if (differences is not null)
            {
                throw new SmokeFailure(differences + await CleanUpAsync(version, cancellationToken));
            }

            var retractionStarted = _clock.Elapsed;
            var retraction = await RetractAsync(version, alertRequired: true, cancellationToken);
            var retracted = _clock.Elapsed - retractionStarted;
            await CheckRestoredAsync(version, categoriesBefore, cancellationToken);
            return new SmokeOutcome(batch, version, retraction, earlier, succeeded, retracted, _clock.Elapsed);
        }
        finally
        {
            Activity.Current = _root;
        }
    }

    /// <summary>
    /// The smoke batch's days must hold only the smoke's own data: what an earlier run left in force or unfinished (this
    /// run's upload replaces it), or nothing. Returns those earlier versions.
    /// </summary>
    private async Task<IReadOnlyList<int>> CheckDaysAsync(CancellationToken cancellationToken)
    {
        var history = await _runs.GetHistoryAsync(Name, cancellationToken);
        var earlier = history?.Versions.Where(v => v.Kind == RunKind.Upload && (v.IsOpen || v.Version == history.AppliedVersion))
            .Select(v => v.Version).ToList() ?? [];
        if (earlier.Count > 0)
        {
            Step($"{Name}: an earlier run left version {string.Join(", ", earlier)} in force or unfinished; this run's upload replaces it");
            return earlier;
        }
        if (await FirstDayWithKpisAsync(cancellationToken) is { } day)
        {
            throw new SmokeFailure($"{Day(day)} has KPIs, and not from {Name}: the smoke batch's days ({Days}) must have none, " +
                "or its KPIs would mix with another batch's; nothing was sent");
        }
        Step($"{Name}: nothing of it in force; its days, {Days}, have no KPIs");
        return earlier;
    }

    private async Task<DateOnly?> FirstDayWithKpisAsync(CancellationToken cancellationToken)
    {
        if ((await _kpis.GetDaysAsync(SmokeBatch.FirstDay, SmokeBatch.LastDay, cancellationToken)).FirstOrDefault() is { } row)
        {
            return row.OrderDate;
        }
        for (var day = SmokeBatch.FirstDay; day <= SmokeBatch.LastDay; day = day.AddDays(1))
        {
            if ((await _kpis.GetCategoriesOnDayAsync(day, cancellationToken)).Count > 0)
            {
                return day;
            }
        }
        return null;
    }

    private async Task<UploadedBatch> SubmitAsync(SmokeBatch batch, CancellationToken cancellationToken)
    {
        var uploaded = await new BatchUploader(aws.S3, new S3BatchStore(aws.S3))
            .UploadAsync(aws.Topology.Bucket.Name, batch.Folder, Name, null, cancellationToken);
        await aws.Bus.PublishAsync(
            new BatchSubmitted(Name, uploaded.Bucket, uploaded.ManifestKey, uploaded.ManifestETag, DateTimeOffset.UtcNow, "smoke"), cancellationToken);
        // What follows are polls, not part of the batch's trace.
        Activity.Current = null;
        Step($"submitted s3://{uploaded.Bucket}/{uploaded.ManifestKey} (manifest ETag {uploaded.ManifestETag}); waiting for its Succeeded alert");
        return uploaded;
    }

    /// <summary>Waits until the upload's version succeeded and its alert was sent; any other outcome is a failure, which says why.</summary>
    private async Task<int> WaitForSuccessAsync(UploadedBatch uploaded, CancellationToken cancellationToken)
    {
        PipelineRun? Ours(BatchHistory history) =>
            history.Versions.LastOrDefault(v => v.Kind == RunKind.Upload && v.ManifestETag == uploaded.ManifestETag);
        bool Overtaken(BatchHistory history) => history.Superseded.Any(s => s.ManifestETag == uploaded.ManifestETag);

        var (history, settled) = await FollowAsync(
            h => Overtaken(h) || Ours(h) is { IsFinished: true } v && (v.Status != RunStatus.Succeeded || Alerted(v)), cancellationToken);
        var run = history is null ? null : Ours(history);
        if (run is null)
        {
            throw new SmokeFailure(history is not null && Overtaken(history)
                ? $"{Name}'s manifest was replaced by another upload before Validate took it up: is another pipeline smoke running?"
                : $"no Succeeded alert about {Name} within {Format(timeout)}: Validate has not taken the upload up (is Validate running?)");
        }

        var took = Took(run.SubmittedAt, run.FinishedAt);
        switch (run.Status)
        {
            case RunStatus.Succeeded when settled:
                Step($"version {run.Version} succeeded in {took} ({StageTimes(run)}) and its Succeeded alert was sent");
                return run.Version;
            case RunStatus.Succeeded:
                throw new SmokeFailure($"version {run.Version} of {Name} succeeded (its KPIs are in) but its Succeeded alert was not sent " +
                    $"within {Format(timeout)}: is the Notifier running?" + await CleanUpAsync(run.Version, cancellationToken));
            case RunStatus.Running:
                throw new SmokeFailure($"no Succeeded alert about {Name} within {Format(timeout)}: version {run.Version} is {Whereabouts(run)}. " +
                    $"It may still finish: the next pipeline smoke replaces and retracts it, or run: pipeline retract {Name}");
            case RunStatus.Rejected:
                throw new SmokeFailure($"version {run.Version} of {Name} was rejected: {RejectionReason(run)}", ExitCodes.Rejected);
            case RunStatus.Failed:
                throw new SmokeFailure($"version {run.Version} of {Name} failed: {run.Summary}");
            default:
                throw new SmokeFailure($"version {run.Version} of {Name} was {run.Status.ToString().ToLowerInvariant()}" +
                    (run.ChangedBy is { } by ? $" by version {by}" : "") + " before it could be checked: is another pipeline smoke running?");
        }
    }

    /// <summary>Null when the KPIs read back for the batch's days are the engine's; otherwise which figures differ.</summary>
    private async Task<string?> CompareKpisAsync(KpiTables expected, CancellationToken cancellationToken)
    {
        var orders = await _kpis.GetDaysAsync(SmokeBatch.FirstDay, SmokeBatch.LastDay, cancellationToken);
        var categories = new List<CategoryKpiRow>();
        for (var day = SmokeBatch.FirstDay; day <= SmokeBatch.LastDay; day = day.AddDays(1))
        {
            categories.AddRange(await _kpis.GetCategoriesOnDayAsync(day, cancellationToken));
        }
        var differences = KpiComparison.Differences(expected, orders, categories);
        if (differences.Count == 0)
        {
            Step($"the KPIs read back equal the engine's: {orders.Count} order KPI rows and {categories.Count} category KPI rows, every figure");
            return null;
        }
        const int Shown = 5;
        return $"the KPIs read back differ from the engine's in {differences.Count} figure{(differences.Count == 1 ? "" : "s")}: " +
            string.Join("; ", differences.Take(Shown)) + (differences.Count > Shown ? $"; and {differences.Count - Shown} more." : ".");
    }

    /// <summary>
    /// Takes <paramref name="version"/> out of the KPIs and waits until that succeeded (and, when
    /// <paramref name="alertRequired"/>, its Retracted alert was sent). Returns the retraction's version.
    /// </summary>
    private async Task<int> RetractAsync(int version, bool alertRequired, CancellationToken cancellationToken)
    {
        Activity.Current = _root;
        // The version it means: if another is in force by the time Compute takes the request, it is refused, not retracted.
        var request = new BatchRetractionRequested(Name, version, "pipeline smoke: its test batch is taken out again", DateTimeOffset.UtcNow, "smoke");
        await aws.Bus.PublishAsync(request, cancellationToken);
        Activity.Current = null;
        Step($"retraction of version {version} requested; waiting for its Retracted alert");

        PipelineRun? Retraction(BatchHistory history) =>
            history.Versions.LastOrDefault(v => v.Kind == RunKind.Retraction && v.RetractsVersion == version);
        bool NoLongerInForce(BatchHistory history) => Retraction(history) is null && history.InForce?.Version != version;

        var (history, settled) = await FollowAsync(
            h => NoLongerInForce(h) || Retraction(h) is { IsFinished: true } r && (r.Status != RunStatus.Succeeded || !alertRequired || Alerted(r)),
            cancellationToken);
        var run = history is null ? null : Retraction(history);
        if (run is null)
        {
            throw new SmokeFailure(history is not null && NoLongerInForce(history)
                ? $"version {version} of {Name} is no longer in force (version {history.AppliedVersion} is applied): is another pipeline smoke running?"
                : $"no Retracted alert about {Name} within {Format(timeout)}: Compute has not taken the retraction up (is Compute running?)");
        }
        return run.Status switch
        {
            RunStatus.Succeeded when settled => Retracted(run),
            RunStatus.Succeeded => throw new SmokeFailure($"version {run.Version} retracted version {version} of {Name}, " +
                $"but its Retracted alert was not sent within {Format(timeout)}: is the Notifier running?"),
            RunStatus.Running => throw new SmokeFailure($"no Retracted alert about {Name} within {Format(timeout)}: the retraction, version {run.Version}, " +
                $"is {Whereabouts(run)}"),
            _ => throw new SmokeFailure($"the retraction of version {version} of {Name} (version {run.Version}) ended {run.Status}: {run.Summary}"),
        };

        int Retracted(PipelineRun retraction)
        {
            Step($"version {retraction.Version} retracted version {version} in {Took(retraction.SubmittedAt, retraction.FinishedAt)}" +
                (alertRequired ? " and its Retracted alert was sent" : ""));
            return retraction.Version;
        }
    }

    /// <summary>After a failure with the batch in force: retracts it, so the failed run leaves the KPIs as they were, and says how that went.</summary>
    private async Task<string> CleanUpAsync(int version, CancellationToken cancellationToken)
    {
        try
        {
            await RetractAsync(version, alertRequired: false, cancellationToken);
            return $" Version {version} was retracted again.";
        }
        catch (SmokeFailure failure)
        {
            return $" Retracting version {version} failed too: {failure.Message}";
        }
    }

    /// <summary>The days have no KPIs again, the categories are those of before, and the version's order ids count for nothing.</summary>
    private async Task CheckRestoredAsync(int version, IReadOnlyList<string> categoriesBefore, CancellationToken cancellationToken)
    {
        if (await FirstDayWithKpisAsync(cancellationToken) is { } day)
        {
            throw new SmokeFailure($"after the retraction {Day(day)} still has KPIs: the pipeline did not take {Name} out of them");
        }
        var history = await _runs.GetHistoryAsync(Name, cancellationToken);
        if (history?.Versions.SingleOrDefault(v => v.Version == version) is not { Status: RunStatus.Retracted })
        {
            throw new SmokeFailure($"after the retraction version {version} of {Name} is not recorded as retracted, so its order ids still count as taken");
        }
        var added = (await _kpis.ListCategoriesAsync(cancellationToken)).Except(categoriesBefore, StringComparer.Ordinal).ToList();
        Step($"{Days} have no KPIs again and version {version}'s order ids are free (it is retracted); " + (added.Count == 0
            ? "the list of categories is as before"
            : $"the list of categories now also names {string.Join(", ", added)} (there were none in the KPIs before), with no rows"));
    }

    /// <summary>Reads the batch's history until <paramref name="settled"/> holds or the time is up; the last history read and whether it settled.</summary>
    private async Task<(BatchHistory? History, bool Settled)> FollowAsync(Func<BatchHistory, bool> settled, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var history = await _runs.GetHistoryAsync(Name, cancellationToken);
            if (history is not null && settled(history))
            {
                return (history, true);
            }
            var left = timeout - waited.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                return (history, false);
            }
            await Task.Delay(left < PollInterval ? left : PollInterval, cancellationToken);
        }
    }

    private void Step(string message) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:F1} s] {message}"));

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
