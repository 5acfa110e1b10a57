using Amazon.SQS;
using Microsoft.Extensions.Logging;

namespace EventBus.AwsSqs;

/// <summary>
/// Keeps a message invisible while its handler runs, by pushing its visibility timeout out again every half timeout,
/// so that long work is never delivered to a second consumer at the same time.
/// </summary>
internal static partial class VisibilityExtender
{
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Extends until the result is disposed; a failed extension is logged and the next one made on time.</summary>
    public static Heartbeat Start(IAmazonSQS sqs, EndpointQueue queue, string receiptHandle, ILogger logger, CancellationToken abort)
    {
        var timeout = (int)Math.Max(1, queue.VisibilityTimeout.TotalSeconds);
        var interval = TimeSpan.FromSeconds(timeout / 2.0);
        return new Heartbeat(interval < MinimumInterval ? MinimumInterval : interval,
            cancellationToken => sqs.ChangeMessageVisibilityAsync(queue.Url, receiptHandle, timeout, cancellationToken),
            // The handler goes on; at worst the message is delivered again, which at-least-once allows.
            error => LogExtensionFailed(logger, queue.Name, error.Message),
            TimeProvider.System,
            abort);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not extend the visibility of a message on {Queue}: {Reason}")]
    private static partial void LogExtensionFailed(ILogger logger, string queue, string reason);
}
