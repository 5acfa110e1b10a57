namespace Aws.Sns;

/// <summary>A message attribute as SNS carries it: a data type (<c>String</c>, <c>Number</c>, ...) and a string value.</summary>
public sealed record SnsMessageAttributeValue(string DataType, string StringValue)
{
    public static SnsMessageAttributeValue FromString(string value) => new("String", value);
}

public sealed record CreateTopicRequest(string Name)
{
    /// <summary>Topic attributes such as <c>FifoTopic</c> or <c>DisplayName</c>.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
}

public sealed record CreateTopicResponse(string TopicArn);

public sealed record SubscribeRequest(string TopicArn, string Protocol, string Endpoint)
{
    /// <summary>Subscription attributes such as <c>RawMessageDelivery</c> or <c>FilterPolicy</c>.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
}

public sealed record SubscribeResponse(string SubscriptionArn);

public sealed record SetSubscriptionAttributesRequest(string SubscriptionArn, string AttributeName, string AttributeValue);

public sealed record PublishRequest(string TopicArn, string Message)
{
    public string? Subject { get; init; }
    public IReadOnlyDictionary<string, SnsMessageAttributeValue> MessageAttributes { get; init; } = new Dictionary<string, SnsMessageAttributeValue>();

    /// <summary>Required for FIFO topics.</summary>
    public string? MessageGroupId { get; init; }
    public string? MessageDeduplicationId { get; init; }
}

public sealed record PublishResponse(string MessageId);

public sealed record SnsSubscription(string SubscriptionArn, string Owner, string Protocol, string Endpoint, string TopicArn);

public sealed record ListSubscriptionsByTopicResponse(IReadOnlyList<SnsSubscription> Subscriptions, string? NextToken);

public sealed record ListTopicsResponse(IReadOnlyList<string> TopicArns, string? NextToken);
