using System.Diagnostics;
using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventBus.AwsSqs;

/// <summary>
/// One received message to its end: read (an unreadable one is poison), handled in a scope of its own while its
/// visibility is extended, then deleted after its handler succeeded; a failing one is retried in process, then
/// redelivered through its visibility timeout with a doubling delay, then dead-lettered with the error; a poison one
/// (unreadable, or refused by its handler with <see cref="PoisonMessageException"/>) is dead-lettered at once.
/// </summary>
internal sealed partial class MessageDelivery(
    IAmazonSQS sqs, IServiceScopeFactory scopes, EndpointQueue queue, BodyFormat format, EventBusSubscriptions subscriptions, SqsEventBusOptions options,
    ILogger logger)
{
    private readonly DeleteBatcher _deletes = new(sqs, queue.Url);

    /// <summary>Cancelled when the endpoint gives up on its handlers at shutdown: their messages are released.</summary>
    private readonly CancellationTokenSource _abort = new();

    /// <summary>Cancels the handlers still at work (the shutdown's deadline); their messages are made visible again.</summary>
    public Task AbortAsync() => _abort.CancelAsync();

    /// <summary>Sends the deletes still batched (at the stop, once no handler is left).</summary>
    public Task CompleteDeletesAsync() => _deletes.CompleteAsync();

    /// <summary>Handles one message to its end (deleted, released for redelivery, or dead-lettered); never throws.</summary>
    public async Task HandleAsync(Message message)
    {
        await Task.Yield();
        try
        {
            InboundMessage inbound;
            try
            {
                inbound = InboundMessage.Read(message, queue, format, subscriptions, options.MaxMessageBytes);
            }
            catch (MessageFormatException e)
            {
                await DeadLetterPoisonAsync(message, e).ConfigureAwait(false);
                return;
            }
            await HandleAsync(message, inbound).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            await ReleaseAsync(message).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Only the transport itself gets here (a delete or a dead-letter send failed): SQS will deliver the message again.
            LogTransportFailed(e, queue.Name, message.MessageId);
        }
    }

    private async Task HandleAsync(Message message, InboundMessage inbound)
    {
        var context = inbound.Context;
        var producer = EventBusTelemetry.Incoming(name => inbound.Attributes.GetValueOrDefault(name) ?? context.Headers.GetValueOrDefault(name));
        using var activity = EventBusTelemetry.StartProcess(queue.Name, producer, context);
        using var scope = logger.BeginScope(new Dictionary<string, object?>
        {
            ["MessageId"] = context.MessageId,
            ["ConversationId"] = context.ConversationId,
            ["MessageType"] = inbound.Subscription.MessageType.Name,
        });
        var started = Stopwatch.GetTimestamp();

        Exception? error;
        await using (VisibilityExtender.Start(sqs, queue, message.ReceiptHandle, logger, _abort.Token))
        {
            error = await InvokeAsync(inbound).ConfigureAwait(false);
            // A message its handler refused as poison is never retried.
            for (var retry = 1; error is not (null or PoisonMessageException) && retry <= options.ImmediateRetries; retry++)
            {
                EventBusTelemetry.Retried(queue.Name);
                LogRetrying(error, queue.Name, inbound.Subscription.MessageType.Name, retry, options.ImmediateRetries);
                await Task.Delay(options.RetryDelay * Math.Pow(2, retry - 1), _abort.Token).ConfigureAwait(false);
                error = await InvokeAsync(inbound).ConfigureAwait(false);
            }
        }

        if (error is null)
        {
            await _deletes.DeleteAsync(message.ReceiptHandle).ConfigureAwait(false);
            EventBusTelemetry.Consumed(queue.Name, Stopwatch.GetElapsedTime(started));
            return;
        }

        activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        activity?.AddException(error);
        EventBusTelemetry.Failed(queue.Name, error);
        if (error is PoisonMessageException poison)
        {
            await DeadLetterPoisonAsync(message, poison).ConfigureAwait(false);
            return;
        }
        if (context.ReceiveCount >= queue.MaxReceiveCount)
        {
            // Moved by us rather than by SQS redrive, so that the dead letter carries the error.
            LogDeadLettering(error, queue.Name, inbound.Subscription.MessageType.Name, context.ReceiveCount);
            await DeadLetterAsync(message, DeadLetterQueue.FaultReason, error).ConfigureAwait(false);
            return;
        }

        // Doubling, so that the budget before the dead-letter queue outlasts a dependency that is down for a while (5 s
        // and 5 receives: 75 s) rather than a few seconds more than a linear one; at most SQS's 12 hours.
        var delay = TimeSpan.FromSeconds(Math.Min(43_200, options.RedeliveryDelay.TotalSeconds * Math.Pow(2, context.ReceiveCount - 1)));
        LogRedelivering(error, queue.Name, inbound.Subscription.MessageType.Name, context.ReceiveCount, queue.MaxReceiveCount, delay);
        await sqs.ChangeMessageVisibilityAsync(queue.Url, message.ReceiptHandle, (int)delay.TotalSeconds, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Runs the handler once in a scope of its own; returns its error, or null when it succeeded.</summary>
    private async Task<Exception?> InvokeAsync(InboundMessage inbound)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            using (MessageContext.Enter(inbound.Context))
            {
                await inbound.Subscription.InvokeAsync(scope.ServiceProvider, inbound.Message, inbound.Context, _abort.Token).ConfigureAwait(false);
            }
            return null;
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
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
        LogPoison(queue.Name, message.MessageId, poison.Message);
        return DeadLetterAsync(message, DeadLetterQueue.PoisonReason, poison);
    }

    private async Task DeadLetterAsync(Message message, string reason, Exception error)
    {
        await DeadLetterQueue.MoveAsync(sqs, queue, message, reason, error, CancellationToken.None).ConfigureAwait(false);
        EventBusTelemetry.DeadLettered(queue.Name, reason);
    }

    /// <summary>Makes a message whose handler was cancelled at shutdown visible again at once, for another instance.</summary>
    public async Task ReleaseAsync(Message message)
    {
        using var timeout = new CancellationTokenSource(SqsEventBusOptions.ReleaseTimeout);
        try
        {
            await sqs.ChangeMessageVisibilityAsync(queue.Url, message.ReceiptHandle, 0, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogTransportFailed(e, queue.Name, message.MessageId);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Poison message {MessageId} on {Queue} goes to the dead-letter queue: {Reason}")]
    private partial void LogPoison(string queue, string messageId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handler of {MessageType} on {Queue} failed; retry {Retry} of {Retries}")]
    private partial void LogRetrying(Exception error, string queue, string messageType, int retry, int retries);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Handler of {MessageType} on {Queue} failed on receive {ReceiveCount} of {MaxReceiveCount}; redelivery in {Delay}")]
    private partial void LogRedelivering(Exception error, string queue, string messageType, int receiveCount, int maxReceiveCount, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Handler of {MessageType} on {Queue} failed on receive {ReceiveCount}, the last: the message goes to the dead-letter queue")]
    private partial void LogDeadLettering(Exception error, string queue, string messageType, int receiveCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Transport call for message {MessageId} on {Queue} failed; SQS will deliver it again")]
    private partial void LogTransportFailed(Exception error, string queue, string messageId);
}
