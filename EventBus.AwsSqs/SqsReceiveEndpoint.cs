using System.Collections.Concurrent;
using System.Diagnostics;
using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.Logging;

namespace EventBus.AwsSqs;

/// <summary>
/// Receives from one queue with long polling and hands each message to <see cref="MessageDelivery"/>, at most
/// <see cref="SqsEventBusOptions.MaxConcurrency"/> at a time; stops by letting the handlers in flight finish (or
/// releasing their messages at the deadline), and reads the queue's backlog for the metrics.
/// </summary>
internal sealed partial class SqsReceiveEndpoint
{
    private const int MaxBatch = 10;

    private readonly IAmazonSQS _sqs;
    private readonly EndpointQueue _queue;
    private readonly SqsEventBusOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;
    private readonly MessageDelivery _delivery;
    private readonly CancellationTokenSource _stopReceiving = new();
    private readonly CancellationTokenSource _abortReceive = new();
    private readonly ConcurrentDictionary<Task, byte> _inFlight = new();
    private Task _receiving = Task.CompletedTask;
    private Task _backlog = Task.CompletedTask;
    private volatile int _receiveFailures;
    private volatile Exception? _lastReceiveFailure;

    public SqsReceiveEndpoint(IAmazonSQS sqs, EndpointQueue queue, SqsEventBusOptions options, MessageDelivery delivery, ILogger logger)
    {
        (_sqs, _queue, _options, _delivery, _logger) = (sqs, queue, options, delivery, logger);
        _slots = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
    }

    public string QueueName => _queue.Name;

    /// <summary>Whether the receive loop runs: started, and not ended (by the stop, or by a fault it could not survive).</summary>
    public bool IsReceiving => !_receiving.IsCompleted;

    /// <summary>How many receives in a row failed (0 once one succeeds), and the last failure.</summary>
    public (int Count, Exception? Last) ReceiveFailures => (_receiveFailures, _lastReceiveFailure);

    public void Start()
    {
        _receiving = Task.Run(ReceiveAsync);
        _backlog = Task.Run(ReadBacklogAsync);
        LogStarted(_queue.Name, _options.MaxConcurrency, _queue.MaxReceiveCount);
    }

    /// <summary>
    /// Stops receiving, lets in-flight handlers finish until <see cref="SqsEventBusOptions.ShutdownTimeout"/> (or
    /// <paramref name="cancellationToken"/>), then cancels the rest and makes their messages visible again.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var stopping = Stopwatch.StartNew();
        await _stopReceiving.CancelAsync().ConfigureAwait(false);
        // The receive call under way is let finish (see ReceiveAsync), unless the service does not answer in time.
        _abortReceive.CancelAfter(_options.WaitTime + SqsEventBusOptions.ReleaseTimeout);
        await Task.WhenAll(_receiving, _backlog).ConfigureAwait(false);

        // The handlers' deadline counts from the stop, not from the end of the last receive.
        var inFlight = Task.WhenAll(_inFlight.Keys);
        var left = _options.ShutdownTimeout - stopping.Elapsed;
        try
        {
            await inFlight.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            LogAbortingHandlers(_queue.Name, _inFlight.Count);
            await _delivery.AbortAsync().ConfigureAwait(false);
            // Handlers that ignore cancellation are left behind; their messages reappear when their visibility runs out.
            await inFlight.WaitAsync(SqsEventBusOptions.ReleaseTimeout, CancellationToken.None)
                .ContinueWith(_ => { }, TaskScheduler.Default)
                .ConfigureAwait(false);
        }
        await _delivery.CompleteDeletesAsync().ConfigureAwait(false);
        LogStopped(_queue.Name);
    }

    /// <summary>Receives until the stop; any other failure is logged and retried after a backoff, so the loop never ends on its own.</summary>
    private async Task ReceiveAsync()
    {
        var stopping = _stopReceiving.Token;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await ReceiveOnceAsync(stopping).ConfigureAwait(false);
                _receiveFailures = 0;
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The SDK throws cancellation and disposal for timed-out calls too, so only the stop ends the loop. The queue
                // may be briefly unreachable: back off (up to 10 s) rather than spin.
                _lastReceiveFailure = e;
                var failures = ++_receiveFailures;
                LogReceiveFailed(e, _queue.Name, failures);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10_000, 200 * Math.Pow(2, failures))), stopping)
                    .ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Receives as many messages as there are free slots for (at least one) and starts handling them.</summary>
    private async Task ReceiveOnceAsync(CancellationToken stopping)
    {
        await _slots.WaitAsync(stopping).ConfigureAwait(false);
        var granted = 1;
        while (granted < MaxBatch && _slots.Wait(0))
        {
            granted++;
        }

        List<Message> messages;
        try
        {
            // Not cancelled by the stop: a long poll abandoned mid-way may still take messages off the queue,
            // which would then stay invisible for a whole visibility timeout. Its answer is released instead.
            messages = (await _sqs.ReceiveMessageAsync(new ReceiveMessageRequest
            {
                QueueUrl = _queue.Url,
                MaxNumberOfMessages = granted,
                WaitTimeSeconds = (int)_options.WaitTime.TotalSeconds,
                MessageAttributeNames = ["All"],
                MessageSystemAttributeNames = ["ApproximateReceiveCount"],
            }, _abortReceive.Token).ConfigureAwait(false)).Messages ?? [];
        }
        catch
        {
            _slots.Release(granted);
            throw;
        }

        if (stopping.IsCancellationRequested)
        {
            _slots.Release(granted);
            await Task.WhenAll(messages.Select(_delivery.ReleaseAsync)).ConfigureAwait(false);
            return;
        }
        if (granted > messages.Count)
        {
            _slots.Release(granted - messages.Count);
        }
        if (messages.Count == 0)
        {
            return;
        }

        foreach (var message in messages)
        {
            var handling = _delivery.HandleAsync(message);
            _inFlight.TryAdd(handling, 0);
            _ = handling.ContinueWith(done =>
            {
                _inFlight.TryRemove(done, out _);
                _slots.Release();
            }, TaskScheduler.Default);
        }
    }

    private async Task ReadBacklogAsync()
    {
        var stopping = _stopReceiving.Token;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var attributes = await _sqs.GetQueueAttributesAsync(_queue.Url, ["ApproximateNumberOfMessages"], stopping).ConfigureAwait(false);
                EventBusTelemetry.Backlog(_queue.Name, attributes.ApproximateNumberOfMessages);
                await Task.Delay(_options.BacklogInterval, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // A metric is not worth stopping for: try again next time.
                LogBacklogFailed(_queue.Name, e.Message);
                await Task.Delay(_options.BacklogInterval, stopping).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Receiving from {Queue}: up to {Concurrency} messages at once, dead-lettered after {MaxReceiveCount} receives")]
    private partial void LogStarted(string queue, int concurrency, int maxReceiveCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped receiving from {Queue}")]
    private partial void LogStopped(string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown deadline reached on {Queue}: cancelling {Count} handlers and releasing their messages")]
    private partial void LogAbortingHandlers(string queue, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving from {Queue} failed ({Failures} in a row)")]
    private partial void LogReceiveFailed(Exception error, string queue, int failures);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not read the backlog of {Queue}: {Reason}")]
    private partial void LogBacklogFailed(string queue, string reason);
}
