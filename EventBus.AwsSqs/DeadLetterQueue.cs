using System.Globalization;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace EventBus.AwsSqs;

/// <summary>A message in a dead-letter queue, with the reason it is there when the bus put it there.</summary>
/// <param name="MessageId">The letter's own SQS message id.</param>
/// <param name="OriginalMessageId">
/// The SQS message id the message had in its endpoint queue when the bus moved it; null when SQS redrive moved it (which
/// keeps the id). A move cut between its send and its delete is made again when the original comes back, so one
/// message can leave two letters: they share this id.
/// </param>
/// <param name="Reason"><c>poison</c> (it could never be handled) or <c>fault</c> (its handler kept failing); null when SQS redrive moved it.</param>
public sealed record DeadLetter(
    string MessageId,
    string? OriginalMessageId,
    string Body,
    string? Reason,
    string? ExceptionType,
    string? ExceptionMessage,
    DateTimeOffset? FaultTime,
    IReadOnlyDictionary<string, string> Attributes)
{
    /// <summary>The message the letter stands for: every copy of one move has the same (report and count letters by it).</summary>
    public string Identity => OriginalMessageId ?? MessageId;
}

/// <summary>The dead-letter queue <c>{queue}_error</c> of an endpoint queue: what is in it, and moving it back.</summary>
public sealed class DeadLetterQueue(IAmazonSQS sqs, string queueName)
{
    public const string PoisonReason = "poison";
    public const string FaultReason = "fault";
    /// <summary>The attribute that carries <see cref="DeadLetter.OriginalMessageId"/>.</summary>
    public const string OriginalMessageIdAttribute = "DeadLetter-OriginalMessageId";

    /// <summary>
    /// How long a peek or a redrive hides the letters it receives: long enough to move one; a peek shows them again
    /// when done, but one cut short (its process killed, its release lost) leaves them hidden this long.
    /// </summary>
    public static readonly TimeSpan ReceiveHidesFor = TimeSpan.FromSeconds(60);
    private const int MaxFaultMessageLength = 1024;

    public string QueueName { get; } = SqsNames.CheckQueueName(queueName);
    public string Name => SqsNames.DeadLetterQueueOf(QueueName);

    /// <summary>Up to <paramref name="max"/> dead letters, left in the queue (they become visible again at once).</summary>
    public async Task<IReadOnlyList<DeadLetter>> PeekAsync(int max = 10, CancellationToken cancellationToken = default)
    {
        var url = await UrlAsync(Name, cancellationToken).ConfigureAwait(false);
        var messages = new List<Message>();
        await foreach (var message in ReceiveAllAsync(url, max, cancellationToken).ConfigureAwait(false))
        {
            messages.Add(message);
        }
        // Receiving hid them; peeking must not, or a redrive right after would find nothing.
        await ReleaseAsync(url, messages, cancellationToken).ConfigureAwait(false);
        return messages.Select(ToDeadLetter).ToList();
    }

    /// <summary>Makes received messages visible again at once.</summary>
    private async Task ReleaseAsync(string url, IEnumerable<Message> messages, CancellationToken cancellationToken)
    {
        foreach (var chunk in messages.Chunk(10))
        {
            await sqs.ChangeMessageVisibilityBatchAsync(new ChangeMessageVisibilityBatchRequest
            {
                QueueUrl = url,
                Entries = chunk.Select((m, i) => new ChangeMessageVisibilityBatchRequestEntry(i.ToString(CultureInfo.InvariantCulture), m.ReceiptHandle)
                {
                    VisibilityTimeout = 0,
                }).ToList(),
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Moves up to <paramref name="max"/> dead letters back to the endpoint queue for reprocessing, without their fault
    /// attributes; each is deleted from the dead-letter queue only after it was sent. Only the letters that were there
    /// when the redrive began move: one that fails again at once (a poison message) comes back as a new letter, and is left
    /// for the next redrive rather than moved round and round. Returns how many moved.
    /// </summary>
    public async Task<int> RedriveAsync(int max = int.MaxValue, CancellationToken cancellationToken = default)
    {
        var url = await UrlAsync(Name, cancellationToken).ConfigureAwait(false);
        var targetUrl = await UrlAsync(QueueName, cancellationToken).ConfigureAwait(false);
        var began = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var moved = 0;
        var later = new List<Message>();
        await foreach (var message in ReceiveAllAsync(url, max, cancellationToken).ConfigureAwait(false))
        {
            if (SentAt(message) >= began)
            {
                later.Add(message); // hidden until the redrive is done, so that it is received only once
                continue;
            }
            await sqs.SendMessageAsync(new SendMessageRequest
            {
                QueueUrl = targetUrl,
                MessageBody = message.Body,
                MessageAttributes = (message.MessageAttributes ?? [])
                    .Where(a => !MessageAttributes.FaultNames.Contains(a.Key))
                    .ToDictionary(a => a.Key, a => a.Value),
            }, cancellationToken).ConfigureAwait(false);
            await sqs.DeleteMessageAsync(url, message.ReceiptHandle, cancellationToken).ConfigureAwait(false);
            moved++;
        }
        await ReleaseAsync(url, later, cancellationToken).ConfigureAwait(false);
        return moved;
    }

    /// <summary>When SQS took the message (epoch milliseconds), or 0 when it does not say.</summary>
    private static long SentAt(Message message) =>
        message.Attributes?.GetValueOrDefault("SentTimestamp") is { } sent && long.TryParse(sent, CultureInfo.InvariantCulture, out var at) ? at : 0;

    /// <summary>
    /// Moves a message that cannot or may not be handled to the dead-letter queue with the reason and its own message id,
    /// then deletes the original.
    /// </summary>
    internal static async Task MoveAsync(
        IAmazonSQS sqs, EndpointQueue queue, Message message, string reason, Exception error, CancellationToken cancellationToken)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        MessageAttributes.AddIfRoom(attributes, OriginalMessageIdAttribute, message.MessageId);
        MessageAttributes.AddIfRoom(attributes, MessageAttributes.Reason, reason);
        MessageAttributes.AddIfRoom(attributes, MessageAttributes.FaultExceptionType, error.GetType().FullName);
        MessageAttributes.AddIfRoom(attributes, MessageAttributes.FaultMessage, Truncate(error.Message));
        MessageAttributes.AddIfRoom(attributes, MessageAttributes.FaultTimestamp, DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        foreach (var (name, value) in message.MessageAttributes ?? [])
        {
            MessageAttributes.AddIfRoom(attributes, name, value.StringValue);
        }

        await sqs.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = queue.DeadLetterUrl,
            MessageBody = message.Body,
            MessageAttributes = attributes.ToDictionary(a => a.Key, a => new MessageAttributeValue { DataType = "String", StringValue = a.Value }),
        }, cancellationToken).ConfigureAwait(false);
        await sqs.DeleteMessageAsync(queue.Url, message.ReceiptHandle, cancellationToken).ConfigureAwait(false);
    }

    private async IAsyncEnumerable<Message> ReceiveAllAsync(
        string url, int max, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (seen.Count < max)
        {
            var response = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest
            {
                QueueUrl = url,
                MaxNumberOfMessages = Math.Min(10, max - seen.Count),
                WaitTimeSeconds = 1,
                // Long enough to move a message; it comes back on its own if the process dies meanwhile.
                VisibilityTimeout = (int)ReceiveHidesFor.TotalSeconds,
                MessageAttributeNames = ["All"],
                MessageSystemAttributeNames = ["SentTimestamp"],
            }, cancellationToken).ConfigureAwait(false);
            var messages = response.Messages ?? [];
            var fresh = messages.Where(m => seen.Add(m.MessageId)).ToList();
            if (fresh.Count == 0)
            {
                yield break;
            }
            foreach (var message in fresh)
            {
                yield return message;
            }
        }
    }

    private async Task<string> UrlAsync(string name, CancellationToken cancellationToken) =>
        (await sqs.GetQueueUrlAsync(name, cancellationToken).ConfigureAwait(false)).QueueUrl;

    private static DeadLetter ToDeadLetter(Message message)
    {
        var attributes = (message.MessageAttributes ?? []).Where(a => a.Value.StringValue is not null)
            .ToDictionary(a => a.Key, a => a.Value.StringValue, StringComparer.Ordinal);
        return new DeadLetter(
            message.MessageId,
            attributes.GetValueOrDefault(OriginalMessageIdAttribute),
            message.Body,
            attributes.GetValueOrDefault(MessageAttributes.Reason),
            attributes.GetValueOrDefault(MessageAttributes.FaultExceptionType),
            attributes.GetValueOrDefault(MessageAttributes.FaultMessage),
            DateTimeOffset.TryParse(
                attributes.GetValueOrDefault(MessageAttributes.FaultTimestamp), CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
                ? time
                : null,
            attributes);
    }

    private static string Truncate(string text) => text.Length <= MaxFaultMessageLength ? text : text[..MaxFaultMessageLength] + "...";
}
