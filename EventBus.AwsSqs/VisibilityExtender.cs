using Amazon.SQS;
using Microsoft.Extensions.Logging;

namespace EventBus.AwsSqs;

/// <summary>
/// Keeps a message invisible while its handler runs, by pushing its visibility timeout out again every half timeout,
/// so that long work is never delivered to a second consumer at the same time.
/// </summary>
internal sealed partial class VisibilityExtender : IAsyncDisposable
{
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(250);
    private readonly CancellationTokenSource _stop;
    private readonly Task _loop;
    private readonly ILogger _logger;

    public VisibilityExtender(IAmazonSQS sqs, EndpointQueue queue, string receiptHandle, ILogger logger, CancellationToken abort)
    {
        _logger = logger;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(abort);
        _loop = ExtendAsync(sqs, queue, receiptHandle, _stop.Token);
    }

    private async Task ExtendAsync(IAmazonSQS sqs, EndpointQueue queue, string receiptHandle, CancellationToken cancellationToken)
    {
        var timeout = (int)Math.Max(1, queue.VisibilityTimeout.TotalSeconds);
        var interval = TimeSpan.FromSeconds(timeout / 2.0);
        interval = interval < MinimumInterval ? MinimumInterval : interval;
        try
        {
            while (true)
            {
                await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
                try
                {
                    await sqs.ChangeMessageVisibilityAsync(queue.Url, receiptHandle, timeout, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The handler goes on; at worst the message is delivered again, which at-least-once allows.
                    LogExtensionFailed(queue.Name, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not extend the visibility of a message on {Queue}: {Reason}")]
    private partial void LogExtensionFailed(string queue, string reason);
}
