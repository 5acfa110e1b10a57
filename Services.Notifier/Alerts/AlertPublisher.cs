using Aws.Sns;
using Pipeline.Storage.Runs;
using Pipeline.Topology;

namespace Services.Notifier.Alerts;

/// <summary>Publishes alerts on the alerts topic (JSON body, subject for email) and notes them in the batch's run record.</summary>
public sealed partial class AlertPublisher(SnsClient sns, PipelineTopology topology, PipelineRunStore runs, TimeProvider clock, ILogger<AlertPublisher> logger)
{
    private string? _topicArn;

    public async Task PublishAsync(Alert alert, string? manifestETag, CancellationToken cancellationToken)
    {
        _topicArn ??= await sns.FindTopicArnAsync(topology.AlertsTopic.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The alerts topic {topology.AlertsTopic.Name} does not exist.");

        var sent = clock.GetUtcNow();
        await sns.PublishAsync(new PublishRequest(_topicArn, alert.ToJson())
        {
            Subject = alert.Subject,
            MessageAttributes = new Dictionary<string, SnsMessageAttributeValue>
            {
                ["Content-Type"] = SnsMessageAttributeValue.FromString("application/json"),
                ["status"] = SnsMessageAttributeValue.FromString(alert.Status.ToString()),
            },
        }, cancellationToken).ConfigureAwait(false);
        LogPublished(alert.BatchId, alert.Status, alert.Subject);

        if (manifestETag is not null)
        {
            await runs.RecordStageAsync(alert.BatchId, manifestETag, Stages.Notify, new StageRecord(Stages.Succeeded, sent, clock.GetUtcNow(),
                new Dictionary<string, long>(), alert.Status == AlertStatus.Succeeded ? null : alert.Subject), cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: {Status} alert sent: {Subject}")]
    private partial void LogPublished(string batchId, AlertStatus status, string subject);
}
