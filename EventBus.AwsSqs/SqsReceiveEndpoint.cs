using System.Collections.Concurrent;
using System.Diagnostics;
using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventBus.AwsSqs;

/// <summary>
/// Receives from one queue with long polling and hands each message to its handler, at most
/// <see cref="SqsEventBusOptions.MaxConcurrency"/> at a time. A message is deleted only after its handler succeeded;
/// a failing one is retried in process, then redelivered through its visibility timeout, then dead-lettered with the error;
/// a poison one (unreadable, or refused by its handler with <see cref="PoisonMessageException"/>) is dead-lettered at once.
/// </summary>
internal sealed partial class SqsReceiveEndpoint
{
    private const int MaxBatch = 10;

    private readonly IAmazonSQS _sqs;
    private readonly IServiceScopeFactory _scopes;
    private readonly EndpointQueue _queue;
    private readonly BodyFormat _format;
    private readonly EventBusSubscriptions _subscriptions;
    private readonly SqsEventBusOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;
    private readonly DeleteBatcher _deletes;
    private readonly CancellationTokenSource _stopReceiving = new();
    private readonly CancellationTokenSource _abortReceive = new();
    private readonly CancellationTokenSource _abortHandlers = new();
    private readonly ConcurrentDictionary<Task, byte> _inFlight = new();
    private Task _receiving = Task.CompletedTask;
    private Task _backlog = Task.CompletedTask;
    private volatile int _receiveFailures;
    private volatile Exception? _lastReceiveFailure;

    public SqsReceiveEndpoint(IAmazonSQS sqs, IServiceScopeFactory scopes, EndpointQueue queue, BodyFormat format,
        EventBusSubscriptions subscriptions, SqsEventBusOptions options, ILogger logger)
    {
        (_sqs, _scopes, _queue, _format, _subscriptions, _options, _logger) = (sqs, scopes, queue, format, subscriptions, options, logger);
        _slots = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        _deletes = new DeleteBatcher(sqs, queue.Url);
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
            await _abortHandlers.CancelAsync().ConfigureAwait(false);
            // Handlers that ignore cancellation are left behind; their messages reappear when their visibility runs out.
            await inFlight.WaitAsync(SqsEventBusOptions.ReleaseTimeout, CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
        await _deletes.CompleteAsync().ConfigureAwait(false);
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
            await Task.WhenAll(messages.Select(ReleaseAsync)).ConfigureAwait(false);
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
            var handling = HandleAsync(message);
            _inFlight.TryAdd(handling, 0);
            _ = handling.ContinueWith(done =>
            {
                _inFlight.TryRemove(done, out _);
                _slots.Release();
            }, TaskScheduler.Default);
        }
    }

    /// <summary>Handles one message to its end (deleted, released for redelivery, or dead-lettered); never throws.</summary>
    private async Task HandleAsync(Message message)
    {
        await Task.Yield();
        try
        {
            InboundMessage inbound;
            try
            {
                inbound = InboundMessage.Read(message, _queue, _format, _subscriptions, _options.MaxMessageBytes);
            }
            catch (MessageFormatException e)
            {
                await DeadLetterPoisonAsync(message, e).ConfigureAwait(false);
                return;
            }
            await HandleAsync(message, inbound).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_abortHandlers.IsCancellationRequested)
        {
            await ReleaseAsync(message).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Only the transport itself gets here (a delete or a dead-letter send failed): SQS will deliver the message again.
            LogTransportFailed(e, _queue.Name, message.MessageId);
        }
    }

    private async Task HandleAsync(Message message, InboundMessage inbound)
    {
        var context = inbound.Context;
        var producer = EventBusTelemetry.Incoming(name => inbound.Attributes.GetValueOrDefault(name) ?? context.Headers.GetValueOrDefault(name));
        using var activity = EventBusTelemetry.StartProcess(_queue.Name, producer, context);
        using var scope = _logger.BeginScope(new Dictionary<string, object?>
        {
            ["MessageId"] = context.MessageId,
            ["ConversationId"] = context.ConversationId,
            ["MessageType"] = inbound.Subscription.MessageType.Name,
        });
        var started = Stopwatch.GetTimestamp();

        Exception? error;
        await using (VisibilityExtender.Start(_sqs, _queue, message.ReceiptHandle, _logger, _abortHandlers.Token))
        {
            error = await InvokeAsync(inbound).ConfigureAwait(false);
            // A message its handler refused as poison is never retried.
            for (var retry = 1; error is not (null or PoisonMessageException) && retry <= _options.ImmediateRetries; retry++)
            {
                EventBusTelemetry.Retried(_queue.Name);
                LogRetrying(error, _queue.Name, inbound.Subscription.MessageType.Name, retry, _options.ImmediateRetries);
                await Task.Delay(_options.RetryDelay * Math.Pow(2, retry - 1), _abortHandlers.Token).ConfigureAwait(false);
                error = await InvokeAsync(inbound).ConfigureAwait(false);
            }
        }

        if (error is null)
        {
            await _deletes.DeleteAsync(message.ReceiptHandle).ConfigureAwait(false);
            EventBusTelemetry.Consumed(_queue.Name, Stopwatch.GetElapsedTime(started));
            return;
        }

        activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        activity?.AddException(error);
        EventBusTelemetry.Failed(_queue.Name, error);
        if (error is PoisonMessageException poison)
        {
            await DeadLetterPoisonAsync(message, poison).ConfigureAwait(false);
            return;
        }
        if (context.ReceiveCount >= _queue.MaxReceiveCount)
        {
            // Moved by us rather than by SQS redrive, so that the dead letter carries the error.
            LogDeadLettering(error, _queue.Name, inbound.Subscription.MessageType.Name, context.ReceiveCount);
            await DeadLetterAsync(message, DeadLetterQueue.FaultReason, error).ConfigureAwait(false);
            return;
        }

        // Doubling, so that the budget before the dead-letter queue outlasts a dependency that is down for a while (5 s
        // and 5 receives: 75 s) rather than a few seconds more than a linear one; at most SQS's 12 hours.
        var delay = TimeSpan.FromSeconds(Math.Min(43_200, _options.RedeliveryDelay.TotalSeconds * Math.Pow(2, context.ReceiveCount - 1)));
        LogRedelivering(error, _queue.Name, inbound.Subscription.MessageType.Name, context.ReceiveCount, _queue.MaxReceiveCount, delay);
        await _sqs.ChangeMessageVisibilityAsync(_queue.Url, message.ReceiptHandle, (int)delay.TotalSeconds, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Runs the handler once in a scope of its own; returns its error, or null when it succeeded.</summary>
    private async Task<Exception?> InvokeAsync(InboundMessage inbound)
    {
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            using (MessageContext.Enter(inbound.Context))
            {
                await inbound.Subscription.InvokeAsync(scope.ServiceProvider, inbound.Message, inbound.Context, _abortHandlers.Token).ConfigureAwait(false);
            }
            return null;
        }
        catch (OperationCanceledException) when (_abortHandlers.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>Dead-letters a message that can never be handled (unreadable, or refused by its handler) at once, with the reason.</summary>
    private Task DeadLetterPoisonAsync(Message message, PoisonMessageException poison)
    {
        LogPoison(_queue.Name, message.MessageId, poison.Message);
        return DeadLetterAsync(message, DeadLetterQueue.PoisonReason, poison);
    }

    private async Task DeadLetterAsync(Message message, string reason, Exception error)
    {
        await DeadLetterQueue.MoveAsync(_sqs, _queue, message, reason, error, CancellationToken.None).ConfigureAwait(false);
        EventBusTelemetry.DeadLettered(_queue.Name, reason);
    }

    /// <summary>Makes a message whose handler was cancelled at shutdown visible again at once, for another instance.</summary>
    private async Task ReleaseAsync(Message message)
    {
        using var timeout = new CancellationTokenSource(SqsEventBusOptions.ReleaseTimeout);
        try
        {
            await _sqs.ChangeMessageVisibilityAsync(_queue.Url, message.ReceiptHandle, 0, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogTransportFailed(e, _queue.Name, message.MessageId);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Receiving from {Queue}: up to {Concurrency} messages at once, dead-lettered after {MaxReceiveCount} receives")]
    private partial void LogStarted(string queue, int concurrency, int maxReceiveCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped receiving from {Queue}")]
    private partial void LogStopped(string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown deadline reached on {Queue}: cancelling {Count} handlers and releasing their messages")]
    private partial void LogAbortingHandlers(string queue, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving from {Queue} failed ({Failures} in a row)")]
    private partial void LogReceiveFailed(Exception error, string queue, int failures);

    [LoggerMessage(Level = LogLevel.Error, Message = "Poison message {MessageId} on {Queue} goes to the dead-letter queue: {Reason}")]
    private partial void LogPoison(string queue, string messageId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handler of {MessageType} on {Queue} failed; retry {Retry} of {Retries}")]
    private partial void LogRetrying(Exception error, string queue, string messageType, int retry, int retries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handler of {MessageType} on {Queue} failed on receive {ReceiveCount} of {MaxReceiveCount}; redelivery in {Delay}")]
    private partial void LogRedelivering(Exception error, string queue, string messageType, int receiveCount, int maxReceiveCount, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handler of {MessageType} on {Queue} failed on receive {ReceiveCount}, the last: the message goes to the dead-letter queue")]
    private partial void LogDeadLettering(Exception error, string queue, string messageType, int receiveCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Transport call for message {MessageId} on {Queue} failed; SQS will deliver it again")]
    private partial void LogTransportFailed(Exception error, string queue, string messageId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not read the backlog of {Queue}: {Reason}")]
    private partial void LogBacklogFailed(string queue, string reason);
}
