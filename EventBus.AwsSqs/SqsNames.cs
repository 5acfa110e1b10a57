using System.Text.RegularExpressions;

namespace EventBus.AwsSqs;

/// <summary>The names and addresses of queues and topics, checked against the AWS limits before any call.</summary>
public static partial class SqsNames
{
    public const string DeadLetterSuffix = "_error";
    public const int MaxQueueNameLength = 80;
    public const int MaxTopicNameLength = 256;

    public static string DeadLetterQueueOf(string queueName) => queueName + DeadLetterSuffix;

    /// <summary>Checks that <paramref name="queueName"/> and its dead-letter queue's name are valid SQS queue names.</summary>
    public static string CheckQueueName(string queueName)
    {
        var longest = DeadLetterQueueOf(queueName);
        if (!ValidName().IsMatch(queueName) || longest.Length > MaxQueueNameLength)
        {
            throw new ArgumentException(
                $"'{queueName}' cannot be a queue: SQS names are 1 to {MaxQueueNameLength} letters, digits, '-' or '_', " +
                $"and the dead-letter queue '{longest}' adds {DeadLetterSuffix.Length}, so at most {MaxQueueNameLength - DeadLetterSuffix.Length} are left.",
                nameof(queueName));
        }
        return queueName;
    }

    public static string CheckTopicName(string topicName)
    {
        if (!ValidName().IsMatch(topicName) || topicName.Length > MaxTopicNameLength)
        {
            throw new ArgumentException(
                $"'{topicName}' cannot be a topic: SNS names are 1 to {MaxTopicNameLength} letters, digits, '-' or '_'. " +
                "Give the message type a shorter [EntityName].", nameof(topicName));
        }
        return topicName;
    }

    /// <summary>MassTransit's address of a queue: <c>amazonsqs://{region}/{queue}</c>.</summary>
    public static Uri QueueAddress(string region, string queueName) => new($"amazonsqs://{region}/{queueName}");

    /// <summary>MassTransit's address of a topic: <c>amazonsqs://{region}/{topic}?type=topic</c>.</summary>
    public static Uri TopicAddress(string region, string topicName) => new($"amazonsqs://{region}/{topicName}?type=topic");

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex ValidName();
}
