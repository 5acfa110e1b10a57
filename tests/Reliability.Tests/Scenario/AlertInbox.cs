using System.Collections.Concurrent;
using Amazon.SQS;
using Amazon.SQS.Model;
using Pipeline.Contracts.Alerts;

namespace Reliability.Tests.Scenario;

/// <summary>Reads every alert from the alerts inbox queue, in arrival order, for the whole run.</summary>
public sealed class AlertInbox(IAmazonSQS sqs, string queueName) : IAsyncDisposable
{
    private readonly ConcurrentQueue<Alert> _alerts = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _reading = Task.CompletedTask;

    public IReadOnlyList<Alert> All => [.. _alerts];

    public void Start() => _reading = Task.Run(() => ReadAsync(_stop.Token));

    /// <summary>Waits until an alert about <paramref name="batchId"/> matches <paramref name="match"/>, and returns it.</summary>
    public async Task<Alert> WaitForAsync(string batchId, Func<Alert, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            if (_alerts.FirstOrDefault(a => a.BatchId == batchId && match(a)) is { } alert)
            {
                return alert;
            }
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"no such alert about batch {batchId} within {timeout}; its alerts: " +
                    string.Join("; ", _alerts.Where(a => a.BatchId == batchId).Select(a => $"{a.Status} v{a.Version}")));
            }
            await Task.Delay(250, cancellationToken);
        }
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        var url = (await sqs.GetQueueUrlAsync(queueName, cancellationToken)).QueueUrl;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var received = await sqs.ReceiveMessageAsync(
                    new ReceiveMessageRequest { QueueUrl = url, WaitTimeSeconds = 2, MaxNumberOfMessages = 10 }, cancellationToken);
                foreach (var message in received.Messages ?? [])
                {
                    _alerts.Enqueue(Alert.FromJson(message.Body));
                    await sqs.DeleteMessageAsync(url, message.ReceiptHandle, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading;
        _stop.Dispose();
    }
}
