using System.Text.Json;
using Amazon.SQS;
using EventBus.AwsSqs;
using Microsoft.Extensions.Options;
using Pipeline.Storage.Runs;
using Pipeline.Topology;
using Services.Notifier.Alerts;

namespace Services.Notifier.Failures;

public sealed class FailureWatcherOptions
{
    public const string SectionName = "Notifier";

    /// <summary>A batch with no progress for this long is reported as stuck.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the dead-letter queues and the run records are checked.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// Turns failures nobody announces into alerts: a stage that gave up on a batch (its message is in the stage's
/// dead-letter queue) and a batch stuck in a stage longer than the stall timeout. Each becomes one Failed alert,
/// and the run is closed as Failed, so it is reported once.
/// </summary>
public sealed partial class FailureWatcher(
    IAmazonSQS sqs, PipelineTopology topology, PipelineRunStore runs, AlertPublisher alerts,
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
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogCheckFailed(e); // the next round tries again
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task CheckDeadLettersAsync(CancellationToken cancellationToken)
    {
        foreach (var (stage, queue) in new[] { (Stages.Validate, topology.ValidateQueue), (Stages.Transform, topology.TransformQueue), (Stages.Compute, topology.ComputeQueue) })
        {
            foreach (var letter in await new DeadLetterQueue(sqs, queue.Name).PeekAsync(10, cancellationToken).ConfigureAwait(false))
            {
                if (BatchOf(letter.Body) is not { } batchId || await runs.GetAsync(batchId, cancellationToken).ConfigureAwait(false) is not { IsFinished: false } run)
                {
                    continue; // not a batch message, or its failure was reported already
                }
                var error = letter.ExceptionMessage is null ? null : $"{letter.ExceptionType}: {letter.ExceptionMessage}";
                await ReportFailedAsync(run, AlertComposer.DeadLettered(run.BatchId, run.ManifestKey, stage, error), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task CheckStalledAsync(CancellationToken cancellationToken)
    {
        var timeout = options.Value.StallTimeout;
        foreach (var run in await runs.FindStalledAsync(clock.GetUtcNow() - timeout, cancellationToken).ConfigureAwait(false))
        {
            await ReportFailedAsync(run, AlertComposer.Stalled(run.BatchId, run.ManifestKey, run.CurrentStage, run.UpdatedAt, timeout), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ReportFailedAsync(Pipeline.Storage.Runs.PipelineRun run, Alert alert, CancellationToken cancellationToken)
    {
        await runs.FinishAsync(run.BatchId, run.ManifestETag, RunStatus.Failed, alert.Summary, cancellationToken).ConfigureAwait(false);
        await alerts.PublishAsync(alert, run.ManifestETag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The batch id of a pipeline message: the envelope's <c>message.batchId</c>.</summary>
    private static string? BatchOf(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object
                && message.TryGetProperty("batchId", out var batchId) && batchId.ValueKind == JsonValueKind.String
                ? batchId.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null; // poison: not JSON at all
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking for failed or stuck batches failed; retrying at the next interval")]
    private partial void LogCheckFailed(Exception exception);
}
