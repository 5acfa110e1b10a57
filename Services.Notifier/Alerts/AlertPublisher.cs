using System.Diagnostics;
using Aws.Sns;
using EventBus.AwsSqs;
using Pipeline.Contracts.Alerts;
using Pipeline.Storage.Alerts;

namespace Services.Notifier.Alerts;

/// <summary>
/// Publishes each alert once on the alerts topic (JSON body, subject for email): the alert's id is claimed in the
/// processed-messages table first and marked sent after the publish, so a repeated delivery or a second notifier
/// replica does not send it again. The windows left — a crash between the publish and the mark (the claim's lease
/// runs out and the alert goes again), a publish whose answer was lost and which is retried — repeat the same
/// <c>alert_id</c> (in the body and as a message attribute), so a reader can tell. The run record notes the alert, and so
/// does the latest-alert item, which every dashboard task polls to refresh its open pages.
/// </summary>
public sealed partial class AlertPublisher(
    SnsClient sns, PipelineTopology topology, IdempotencyStore sent, PipelineRunStore runs, LatestAlertStore latest, TimeProvider clock,
    ILogger<AlertPublisher> logger)
{
    private string? _topicArn;

    /// <returns>False when the alert had been sent before.</returns>
    public async Task<bool> PublishOnceAsync(Alert alert, CancellationToken cancellationToken)
    {
        using var activity = PipelineTelemetry.StartStage(Stages.Notify, alert.BatchId);
        activity?.SetTag("pipeline.alert.status", alert.Status.ToString());
        var at = clock.GetUtcNow();
        var outcome = await sent.RunOnceAsync("alert/" + alert.AlertId, ct => PublishAsync(alert, ct), cancellationToken).ConfigureAwait(false);
        if (outcome == IdempotencyOutcome.AlreadyDone)
        {
            LogAlreadySent(alert.BatchId, alert.Status, alert.AlertId);
        }
        else
        {
            LogPublished(alert.BatchId, alert.Status, alert.Subject);
        }
        // Also after a repeat: the delivery that sent it may have died before noting it.
        await latest.NoteAsync(alert.ToJson(), at, Activity.Current?.Id, cancellationToken).ConfigureAwait(false);
        // An anomaly is about a day's data, not about the version's run: its record keeps the outcome's note.
        if (alert.Version is { } version && alert.Status != AlertStatus.Anomaly)
        {
            await runs.RecordNotifiedAsync(alert.BatchId, version, new StageRecord(StageStatus.Succeeded, at, clock.GetUtcNow(),
                new Dictionary<string, long>(), alert.Status == AlertStatus.Succeeded ? null : alert.Subject), cancellationToken).ConfigureAwait(false);
        }
        return outcome == IdempotencyOutcome.Executed;
    }

    private async Task PublishAsync(Alert alert, CancellationToken cancellationToken)
    {
        _topicArn ??= await sns.FindTopicArnAsync(topology.AlertsTopic.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The alerts topic {topology.AlertsTopic.Name} does not exist.");
        await sns.PublishAsync(new PublishRequest(_topicArn, alert.ToJson())
        {
            Subject = alert.Subject,
            MessageAttributes = new Dictionary<string, SnsMessageAttributeValue>
            {
                ["Content-Type"] = SnsMessageAttributeValue.FromString("application/json"),
                ["status"] = SnsMessageAttributeValue.FromString(alert.Status.ToString()),
                ["alert_id"] = SnsMessageAttributeValue.FromString(alert.AlertId),
            },
        }, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: {Status} alert sent: {Subject}")]
    private partial void LogPublished(string batchId, AlertStatus status, string subject);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: {Status} alert {AlertId} was sent before; not again")]
    private partial void LogAlreadySent(string batchId, AlertStatus status, string alertId);
}
