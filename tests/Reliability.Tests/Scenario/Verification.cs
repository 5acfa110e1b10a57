using Amazon.SQS.Model;
using EventBus.AwsSqs;
using Pipeline.Contracts.Alerts;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Curated;
using Pipeline.Storage.Runs;
using Pipeline.Topology;

namespace Reliability.Tests.Scenario;

/// <summary>
/// What must hold once the system has settled, checked against the plan and the engine run on the same files: every
/// version ended once with its one terminal alert; the KPI tables are the engine's over exactly the versions in force, and
/// the curated Parquet is theirs too; the dead-letter queues hold exactly the poison sent on purpose, each with its reason; no raw file is lost. Each
/// thing that does not hold is one discrepancy, described.
/// </summary>
/// <param name="days">Every day a planned batch can fall on.</param>
public sealed class Verification(
    PipelineDriver driver, BatchPlan plan, IReadOnlyList<PoisonMessage> poison, AlertInbox inbox,
    (DateOnly From, DateOnly To) days, TimeSpan timeout, Action<string> log)
{
    private readonly List<string> _discrepancies = [];

    public async Task<IReadOnlyList<string>> RunAsync(CancellationToken cancellationToken)
    {
        await SettleAsync(cancellationToken);
        await CheckDeadLettersAsync(cancellationToken);
        CheckAlerts();
        await CheckHistoriesAsync(cancellationToken);
        await CheckKpisAsync(cancellationToken);
        // One listing of the bucket, settled, serves both checks of what is in it.
        var keys = new HashSet<string>(await driver.KeysUnderAsync("", cancellationToken), StringComparer.Ordinal);
        await CheckCuratedAsync(keys, cancellationToken);
        CheckFiles(keys);
        return _discrepancies;
    }

    private void Discrepancy(string text) => _discrepancies.Add(text);

    /// <summary>Waits for every expected alert, then for the pipeline's queues to stay empty while the Notifier looks at the dead letters.</summary>
    private async Task SettleAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        foreach (var version in plan.Versions.Where(v => v.Alert != ExpectedAlert.None))
        {
            var left = deadline - DateTimeOffset.UtcNow;
            try
            {
                await inbox.WaitForAsync(
                    version.Batch,
                    a => a.Version == version.Version && a.Status != AlertStatus.Failed,
                    left > TimeSpan.Zero ? left : TimeSpan.Zero,
                    cancellationToken);
            }
            catch (TimeoutException)
            {
                // reported by CheckAlerts, with what did arrive
            }
        }
        var queues = new[]
        {
            driver.Topology.ValidateQueue, driver.Topology.TransformQueue, driver.Topology.ComputeQueue, driver.Topology.NotifierQueue,
            driver.Topology.ManifestEventsQueue,
        };
        var quietRounds = 0;
        while (quietRounds < 3 && DateTimeOffset.UtcNow < deadline)
        {
            var busy = 0;
            foreach (var queue in queues)
            {
                var url = (await driver.Sqs.GetQueueUrlAsync(queue.Name, cancellationToken)).QueueUrl;
                var attributes = await driver.Sqs.GetQueueAttributesAsync(new GetQueueAttributesRequest(url, ["All"]), cancellationToken);
                busy += attributes.ApproximateNumberOfMessages + attributes.ApproximateNumberOfMessagesNotVisible
                    + attributes.ApproximateNumberOfMessagesDelayed;
            }
            var poisonAlerts = inbox.All.Where(IsDeadLetterAlert).Select(a => a.AlertId).Distinct().Count();
            quietRounds = busy == 0 && poisonAlerts >= poison.Count ? quietRounds + 1 : 0;
            await Task.Delay(ReliabilityApp.NotifierCheckInterval, cancellationToken);
        }
        if (quietRounds < 3)
        {
            Discrepancy($"the system did not settle within {timeout.TotalMinutes:F0} min " +
                "(messages still in the pipeline's queues, or dead letters not yet reported)");
        }
        log("settled; checking");
    }

    private static bool IsDeadLetterAlert(Alert alert) => alert.AlertId.StartsWith("deadletter/", StringComparison.Ordinal);

    /// <summary>
    /// Each planned version has exactly one terminal alert, the one expected; a Failed before it (a version reported
    /// failed that a later delivery resumed) is allowed, since it reported a real event. Dead letters are reported once
    /// each, as many as the poison sent to each queue. Nothing else is alerted.
    /// </summary>
    private void CheckAlerts()
    {
        var alerts = inbox.All.DistinctBy(a => a.AlertId).ToList();
        var planned = plan.Versions.Where(v => v.Alert != ExpectedAlert.None).ToDictionary(v => (v.Batch, v.Version));
        foreach (var group in alerts.Where(a => !IsDeadLetterAlert(a)).GroupBy(a => (a.BatchId, a.Version ?? 0)))
        {
            var statuses = group.Select(a => a.Status).ToList();
            if (!planned.TryGetValue(group.Key, out var version))
            {
                Discrepancy($"alerts about {group.Key.BatchId} v{group.Key.Item2}, which no plan made: {Describe(group)}");
                continue;
            }
            var expected = Enum.Parse<AlertStatus>(version.Alert.ToString());
            var terminal = statuses.Where(s => s != AlertStatus.Failed).ToList();
            var failedFirst = statuses.TakeWhile(s => s == AlertStatus.Failed).Count();
            if (terminal.Count != 1 || terminal[0] != expected || failedFirst != statuses.Count - 1)
            {
                Discrepancy($"{version}: expected one {expected} alert, got {Describe(group)}");
            }
        }
        foreach (var version in planned.Values.Where(v => !alerts.Any(a => a.BatchId == v.Batch && a.Version == v.Version)))
        {
            Discrepancy($"{version}: no alert at all (expected {version.Alert})");
        }
        foreach (var queue in poison.Select(p => p.DeadLetterQueue).Distinct())
        {
            var letters = poison.Count(p => p.DeadLetterQueue == queue);
            var reported = alerts.Count(a => IsDeadLetterAlert(a) && a.AlertId.StartsWith($"deadletter/{queue}/", StringComparison.Ordinal));
            if (reported != letters)
            {
                Discrepancy($"{letters} poison messages went to {queue}'s dead letters, {reported} dead letters of it were reported");
            }
        }
        foreach (var alert in alerts.Where(a => IsDeadLetterAlert(a)
            && !poison.Any(p => a.AlertId.StartsWith($"deadletter/{p.DeadLetterQueue}/", StringComparison.Ordinal))))
        {
            Discrepancy($"a dead letter nobody meant: {alert.Subject}: {alert.Summary}");
        }
    }

    private static string Describe(IEnumerable<Alert> alerts) =>
        string.Join("; ", alerts.Select(a => $"{a.Status} ({a.Subject}{(a.Status == AlertStatus.Failed ? ": " + a.Summary : "")})"));

    /// <summary>The run records: each version's final status, and the version in force.</summary>
    private async Task CheckHistoriesAsync(CancellationToken cancellationToken)
    {
        foreach (var batch in plan.Versions.GroupBy(v => v.Batch))
        {
            var history = await driver.Runs(TimeProvider.System).GetHistoryAsync(batch.Key, cancellationToken);
            var expected = batch.Where(v => v.Alert != ExpectedAlert.None).Select(v => (v.Version, Status: ExpectedStatus(v, batch))).ToList();
            var actual = history?.Versions.Select(v => (v.Version, v.Status)).ToList() ?? [];
            if (!expected.SequenceEqual(actual))
            {
                Discrepancy($"{batch.Key}: run history {Show(actual)}, expected {Show(expected)}");
            }
            var inForce = batch.SingleOrDefault(v => v.InForce)?.Version;
            if (history?.InForce?.Version != inForce)
            {
                Discrepancy($"{batch.Key}: version in force is {history?.InForce?.Version.ToString() ?? "none"}, expected {inForce?.ToString() ?? "none"}");
            }
        }
    }

    private static RunStatus ExpectedStatus(PlannedVersion version, IEnumerable<PlannedVersion> batch) => version.Alert switch
    {
        ExpectedAlert.Rejected => RunStatus.Rejected,
        ExpectedAlert.Retracted => RunStatus.Succeeded, // the retraction itself
        _ when version.InForce => RunStatus.Succeeded,
        _ => batch.Any(v => v.Alert == ExpectedAlert.Retracted) ? RunStatus.Retracted : RunStatus.Replaced,
    };

    private static string Show(IEnumerable<(int Version, RunStatus Status)> versions) =>
        "[" + string.Join(", ", versions.Select(v => $"v{v.Version} {v.Status}")) + "]";

    /// <summary>The KPI tables, every day any batch touched, against the engine over exactly the versions in force.</summary>
    private async Task CheckKpisAsync(CancellationToken cancellationToken)
    {
        var inForce = plan.Versions.Where(v => v.InForce).Select(v => v.Folder!).ToArray();
        var expected = PipelineDriver.EngineKpis(inForce);
        var stored = await driver.Kpis.GetDaysAsync(days.From, days.To, cancellationToken);
        for (var day = days.From; day <= days.To; day = day.AddDays(1))
        {
            var want = expected.OrderKpis.SingleOrDefault(r => r.OrderDate == day);
            var have = stored.SingleOrDefault(r => r.OrderDate == day);
            if (want != have)
            {
                Discrepancy($"order KPIs of {day}: stored {have?.ToString() ?? "none"}, the engine says {want?.ToString() ?? "none"}");
            }
            var wantCategories = expected.CategoryKpis.Where(r => r.OrderDate == day).ToList();
            var haveCategories = await driver.Kpis.GetCategoriesOnDayAsync(day, cancellationToken);
            if (!wantCategories.SequenceEqual(haveCategories))
            {
                Discrepancy($"category KPIs of {day}: {haveCategories.Count} rows stored, {wantCategories.Count} from the engine; first difference: " +
                    $"{haveCategories.Except(wantCategories).FirstOrDefault()?.ToString() ?? "-"} vs " +
                    $"{wantCategories.Except(haveCategories).FirstOrDefault()?.ToString() ?? "-"}");
            }
        }
    }

    /// <summary>
    /// <c>curated/</c>: each batch has one object a day its version in force has items on, naming that version, and no
    /// other; a batch with no version in force has none.
    /// </summary>
    private async Task CheckCuratedAsync(HashSet<string> keys, CancellationToken cancellationToken)
    {
        foreach (var batch in plan.Versions.GroupBy(v => v.Batch))
        {
            var inForce = batch.SingleOrDefault(v => v.InForce);
            var expected = inForce is null ? [] : PipelineDriver.EngineKpis(inForce.Folder!).CategoryKpis.Select(r => r.OrderDate).Distinct()
                .Select(day => CuratedPublisher.KeyOf(batch.Key, day)).ToHashSet(StringComparer.Ordinal);
            var found = keys.Where(k => k.StartsWith(PipelineTopology.CuratedOrderItems.Prefix, StringComparison.Ordinal)
                && k.EndsWith($"/{batch.Key}.parquet", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
            if (!found.SetEquals(expected))
            {
                Discrepancy($"{batch.Key}: curated objects {string.Join(", ", found.Except(expected).Take(3))} not of its version in force, " +
                    $"{string.Join(", ", expected.Except(found).Take(3))} missing ({found.Count} found, {expected.Count} expected)");
            }
            foreach (var key in found.Intersect(expected))
            {
                var metadata = await driver.S3.GetObjectMetadataAsync(driver.Topology.Bucket.Name, key, cancellationToken);
                if (metadata.Metadata[CuratedPublisher.VersionMetadata] != $"{inForce!.Version}")
                {
                    Discrepancy($"{key} holds version {metadata.Metadata[CuratedPublisher.VersionMetadata]}, the version in force is {inForce.Version}");
                }
            }
        }
    }

    /// <summary>
    /// Exactly the poison sent on purpose is dead-lettered, each in its queue, as poison with its reason. The Notifier
    /// peeks at the same queues (a peek hides the letters it reads for a moment), so the letters are gathered over a few
    /// looks, by the message each stands for (<see cref="DeadLetter.Identity"/>).
    /// </summary>
    private async Task CheckDeadLettersAsync(CancellationToken cancellationToken)
    {
        var letters = new Dictionary<string, (QueueSpec Queue, DeadLetter Letter)>();
        // A peek of the Notifier's cut short by a kill hides its letters for a while: look until that has passed.
        var lookUntil = DateTimeOffset.UtcNow + DeadLetterQueue.ReceiveHidesFor + ReliabilityApp.NotifierCheckInterval;
        for (var look = 0; look == 0 || (poison.Any(p => !letters.Values.Any(l => l.Letter.Body == p.Body)) && DateTimeOffset.UtcNow < lookUntil); look++)
        {
            if (look > 0)
            {
                await Task.Delay(ReliabilityApp.NotifierCheckInterval, cancellationToken);
            }
            foreach (var queue in driver.Topology.Queues)
            {
                foreach (var letter in await new DeadLetterQueue(driver.Sqs, queue.Name).PeekAsync(1_000, cancellationToken))
                {
                    letters[letter.Identity] = (queue, letter); // the copies a cut move leaves are one letter
                }
            }
        }
        var found = new HashSet<string>();
        foreach (var (queue, letter) in letters.Values)
        {
            var meant = poison.FirstOrDefault(p => p.Body == letter.Body && p.DeadLetterQueue == queue.Name);
            if (meant is null)
            {
                // Without a reason, SQS's own redrive moved it: its receives kept ending before its handler did.
                Discrepancy($"a dead letter in {queue.DeadLetterQueueName} nobody meant: " +
                    $"{letter.Reason ?? "(no reason: moved by SQS's redrive)"} {letter.ExceptionType}: {letter.ExceptionMessage}; body {Shorten(letter.Body)}");
            }
            else if (!found.Add(meant.MessageId))
            {
                Discrepancy($"the poison '{meant.Kind}' is in {queue.DeadLetterQueueName} twice");
            }
            else if (letter.Reason != DeadLetterQueue.PoisonReason || string.IsNullOrWhiteSpace(letter.ExceptionMessage))
            {
                Discrepancy($"the poison '{meant.Kind}' was dead-lettered as {letter.Reason ?? "(no reason)"} " +
                    $"({letter.ExceptionType}: {letter.ExceptionMessage}), not as poison with its reason");
            }
        }
        foreach (var lost in poison.Where(p => !found.Contains(p.MessageId)))
        {
            Discrepancy($"the poison '{lost.Kind}' is not in {lost.DeadLetterQueue}_error");
        }
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";

    /// <summary>Every raw file is in its version's archive folder; only an unreadable upload's files stay under data/.</summary>
    private void CheckFiles(HashSet<string> keys)
    {
        var staying = new HashSet<string>(StringComparer.Ordinal);
        foreach (var version in plan.Versions.Where(v => v.Archive is not null))
        {
            var manifest = BatchLayout.ManifestKey(version.Batch)[BatchLayout.BatchPrefix(version.Batch).Length..];
            foreach (var file in version.RawFiles)
            {
                var moves = !version.OnlyManifestMoves || file == manifest;
                var where = moves
                    ? BatchLayout.VersionFolder(version.Archive!, version.Batch, version.Version) + file
                    : BatchLayout.BatchPrefix(version.Batch) + file;
                if (!moves)
                {
                    staying.Add(where);
                }
                if (!keys.Contains(where))
                {
                    var similar = keys.Where(k => k.EndsWith("/" + file, StringComparison.Ordinal) && k.Contains(version.Batch, StringComparison.Ordinal));
                    Discrepancy($"{version}: {file} is not at {where} (found: {string.Join(", ", similar)})");
                }
            }
        }
        foreach (var left in keys.Where(k => k.StartsWith(BatchLayout.DataPrefix, StringComparison.Ordinal) && !staying.Contains(k)))
        {
            Discrepancy($"{left} is still under data/");
        }
    }
}
