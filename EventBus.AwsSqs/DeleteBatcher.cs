using System.Threading.Channels;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace EventBus.AwsSqs;

/// <summary>
/// Deletes handled messages in batches of up to 10: while one batch is on the wire the next one fills,
/// so a busy queue needs a tenth of the calls and an idle one waits for nothing.
/// </summary>
internal sealed class DeleteBatcher
{
    private const int MaxBatch = 10;
    private readonly IAmazonSQS _sqs;
    private readonly string _queueUrl;
    private readonly Channel<(string ReceiptHandle, TaskCompletionSource Done)> _pending =
        Channel.CreateUnbounded<(string, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    public DeleteBatcher(IAmazonSQS sqs, string queueUrl)
    {
        _sqs = sqs;
        _queueUrl = queueUrl;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Completes once SQS confirmed the delete; fails if SQS refused it.</summary>
    public Task DeleteAsync(string receiptHandle)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.Writer.TryWrite((receiptHandle, done)))
        {
            done.SetException(new InvalidOperationException("The endpoint has stopped."));
        }
        return done.Task;
    }

    /// <summary>Sends what is pending and stops.</summary>
    public Task CompleteAsync()
    {
        _pending.Writer.TryComplete();
        return _loop;
    }

    private async Task RunAsync()
    {
        var batch = new List<(string ReceiptHandle, TaskCompletionSource Done)>(MaxBatch);
        while (await _pending.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && _pending.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }
            await SendAsync(batch).ConfigureAwait(false);
            batch.Clear();
        }
    }

    private async Task SendAsync(List<(string ReceiptHandle, TaskCompletionSource Done)> batch)
    {
        try
        {
            var response = await _sqs.DeleteMessageBatchAsync(new DeleteMessageBatchRequest
            {
                QueueUrl = _queueUrl,
                Entries = batch
                    .Select((m, i) => new DeleteMessageBatchRequestEntry(i.ToString(System.Globalization.CultureInfo.InvariantCulture), m.ReceiptHandle))
                    .ToList(),
            }).ConfigureAwait(false);
            var failed = (response.Failed ?? []).ToDictionary(f => int.Parse(f.Id, System.Globalization.CultureInfo.InvariantCulture));
            for (var i = 0; i < batch.Count; i++)
            {
                if (failed.TryGetValue(i, out var failure))
                {
                    batch[i].Done.SetException(new AmazonSQSException($"Delete failed: {failure.Code}: {failure.Message}"));
                }
                else
                {
                    batch[i].Done.SetResult();
                }
            }
        }
        catch (Exception e)
        {
            batch.ForEach(m => m.Done.TrySetException(e));
        }
    }
}
