using System.Text.Json;
using Amazon.SQS;
using EventBus.AwsSqs;
using Microsoft.Extensions.Options;
using Pipeline.Contracts.Alerts;
using Pipeline.Topology.Access;
using Services.Notifier.Alerts;

namespace Services.Notifier.Failures;

public sealed class FailureWatcherOptions
{
    public const string SectionName = "Notifier";

    /// <summary>
    /// A version with no progress for this long is reported as stuck. Longer than a stage queue's visibility timeout
    /// (5 minutes), so that a stage that crashed and is redelivered is not taken for stuck.
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often the dead-letter queues and the run records are checked.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Dead letters looked at per queue and round: the whole queue in any sane state (a peek pages through it, each
    /// letter hidden until the page ends), so a new letter is never stuck behind old ones that were reported already.
    /// </summary>
    public int DeadLettersPerRound { get; set; } = 1_000;
}

/// <summary>
/// Turns failures nobody announces into alerts. A dead letter in any service's dead-letter queue is reported once
/// (the id of the message it stands for is recorded, so the copies a cut move leaves are one report): the version it
/// belongs to — by the version its message names, or by the message that began it — is failed, or, when no running
/// version owns it, the letter itself is reported. A version with no progress for longer than the stall timeout is
/// failed, on condition that it made none since it was seen. Every failed version is announced once per attempt,
/// whoever failed it; a resumed version that fails again is announced again.
/// </summary>
public sealed partial class FailureWatcher(
    IAmazonSQS sqs, PipelineTopology topology, PipelineRunStore runs, AlertPublisher alerts, IdempotencyStore reported,
    IOptions<FailureWatcherOptions> options, TimeProvider clock, ILogger<FailureWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CheckInterval, clock);
        do
        {
            try
            {
                await CheckDeadLettersAsync(stoppingToken).ConfigureAwait(false);
                await CheckStalledAsync(stoppingToken).ConfigureAwait(false);
                foreach (var run in await runs.FindUnannouncedFailuresAsync(stoppingToken).ConfigureAwait(false))
                {
                    await alerts.PublishOnceAsync(AlertComposer.Failed(run), stoppingToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogCheckFailed(e); // the next round tries again
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task CheckDeadLettersAsync(CancellationToken cancellationToken)
    {
        foreach (var queue in new PipelineServices(topology).Notifier.WatchesDeadLetters)
        {
            var letters = await new DeadLetterQueue(sqs, queue.Name).PeekAsync(options.Value.DeadLettersPerRound, cancellationToken).ConfigureAwait(false);
            foreach (var letter in letters)
            {
                try
                {
                    await reported.RunOnceAsync($"deadletter/{queue.Name}/{letter.Identity}", ct => ReportAsync(queue, letter, ct), cancellationToken)
                        .ConfigureAwait(false);
                }
                catch (IdempotencyConflictException)
                {
                    // Another notifier replica is reporting it right now.
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // One letter that cannot be reported now must not hold up the others (nor the stall checks): the next round tries it again.
                    LogReportFailed(e, letter.Identity, queue.Name);
                }
            }
        }
    }

    private async Task ReportAsync(QueueSpec deadQueue, DeadLetter letter, CancellationToken cancellationToken)
    {
        if (deadQueue == topology.NotifierQueue && OutcomeAlert(letter.Body) is { } alert)
        {
            // An outcome whose alert this service could not send (SNS down all the while): send it now.
            await alerts.PublishOnceAsync(alert, cancellationToken).ConfigureAwait(false);
            return;
        }
        var queue = deadQueue.Name;
        var error = letter.ExceptionMessage is null ? letter.Reason : $"{letter.ExceptionType}: {letter.ExceptionMessage}";
        var about = Describe(letter.Body);
        var run = about.BatchId is null ? null : await FindVersionAsync(about, cancellationToken).ConfigureAwait(false);
        if (run is not null
            && await runs.FailAsync(
                    run.BatchId, run.Version, AlertComposer.DeadLetteredSummary(run, queue, error), null, cancellationToken).ConfigureAwait(false)
                != TransitionResult.Refused)
        {
            var failedRun = (await runs.GetAsync(run.BatchId, run.Version, cancellationToken).ConfigureAwait(false))!;
            await alerts.PublishOnceAsync(AlertComposer.Failed(failedRun), cancellationToken).ConfigureAwait(false);
            return;
        }
        var note = run is null ? null : AlertComposer.EndedVersionNote(run, computeMessage: deadQueue == topology.ComputeQueue);
        await alerts.PublishOnceAsync(AlertComposer.DeadLetter(queue, letter.Identity, about.BatchId, note, error), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The version a dead message was about: the one it names, or the one it began (a submission).</summary>
    private async Task<PipelineRun?> FindVersionAsync(MessageAbout about, CancellationToken cancellationToken)
    {
        if (about.Version is { } version)
        {
            return await runs.GetAsync(about.BatchId!, version, cancellationToken).ConfigureAwait(false);
        }
        return about.MessageId is null ? null
            : (await runs.GetHistoryAsync(about.BatchId!, cancellationToken).ConfigureAwait(false))?.VersionBegunBy(about.MessageId);
    }

    private async Task CheckStalledAsync(CancellationToken cancellationToken)
    {
        var timeout = options.Value.StallTimeout;
        foreach (var run in await runs.FindStalledAsync(clock.GetUtcNow() - timeout, cancellationToken).ConfigureAwait(false))
        {
            // Only if it made no progress since it was seen: a stage that just moved on wins.
            if (await runs.FailAsync(
                    run.BatchId, run.Version, AlertComposer.StalledSummary(run, timeout), run.UpdatedAt, cancellationToken).ConfigureAwait(false)
                == TransitionResult.Won)
            {
                var failedRun = (await runs.GetAsync(run.BatchId, run.Version, cancellationToken).ConfigureAwait(false))!;
                await alerts.PublishOnceAsync(AlertComposer.Failed(failedRun), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Which batch (and version) a message was about: a bus envelope's <c>message.batchId</c> and <c>message.version</c>
    /// (and its <c>messageId</c>), or the manifest an S3 event names (<see cref="S3EventNotification"/>). Nothing for a
    /// body that is neither.
    /// </summary>
    private static MessageAbout Describe(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new MessageAbout(null, null, null);
            }
            if (root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
            {
                return new MessageAbout(
                    message.TryGetProperty("batchId", out var batch) && batch.ValueKind == JsonValueKind.String
                        && BatchLayout.IsBatchName(batch.GetString()!) ? batch.GetString()
                    : message.TryGetProperty("manifestKey", out var key) && key.ValueKind == JsonValueKind.String && BatchLayout.IsManifestKey(key.GetString()!)
                        ? BatchLayout.BatchNameOf(key.GetString()!) : null,
                    message.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.Number
                        && version.TryGetInt32(out var number) ? number : null,
                    root.TryGetProperty("messageId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null);
            }
            var s3Event = (S3EventNotification?)EnvelopeSerializer.ReadMessage(root, typeof(S3EventNotification));
            return new MessageAbout(s3Event?.Records?.Select(r => r.ManifestKey).FirstOrDefault(k => k is not null) is { } manifestKey
                ? BatchLayout.BatchNameOf(manifestKey) : null, null, null);
        }
        catch (Exception e) when (e is JsonException or MessageFormatException or BatchLayoutException)
        {
            // poison: not JSON, or a key outside the layout
        }
        return new MessageAbout(null, null, null);
    }

    /// <summary>The alert an outcome message (a success, a rejection, a retraction or a refused one) was to produce; null for anything else.</summary>
    private static Alert? OutcomeAlert(string body)
    {
        try
        {
            var envelope = EnvelopeSerializer.Deserialize(body);
            return AlertComposer.Outcomes.FirstOrDefault(type => envelope.MessageType!.Contains(MessageNaming.UrnOf(type))) is { } outcome
                ? AlertComposer.ForOutcome(EnvelopeSerializer.ReadMessage(envelope.Message!.Value, outcome))
                : null;
        }
        catch (Exception e) when (e is MessageFormatException or BatchLayoutException)
        {
            return null;
        }
    }

    private sealed record MessageAbout(string? BatchId, int? Version, string? MessageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report dead letter {MessageId} of {Queue}; trying again at the next interval")]
    private partial void LogReportFailed(Exception exception, string messageId, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking for failed or stuck batches failed; retrying at the next interval")]
    private partial void LogCheckFailed(Exception exception);
}
