using Amazon.Runtime;

namespace Aws.Sns;

public sealed class SnsClientOptions
{
    /// <summary>The AWS region, such as <c>us-east-1</c>. It is part of every signature.</summary>
    public required string Region { get; init; }

    /// <summary>An endpoint override (LocalStack, the local emulator); <c>https://sns.{region}.amazonaws.com/</c> when null.</summary>
    public Uri? ServiceUrl { get; init; }

    /// <summary>The credentials that sign requests; typically the SDK's default chain.</summary>
    public required AWSCredentials Credentials { get; init; }

    /// <summary>
    /// The account that owns the topics, when known (in ECS the deployment passes it). Topics are then found by their
    /// ARN with GetTopicAttributes, which IAM can limit to those topics; without it, by listing every topic
    /// (ListTopics, which IAM can only allow on all resources).
    /// </summary>
    public string? AccountId { get; init; }

    public Uri Endpoint => ServiceUrl ?? SnsQueryProtocol.Api.Endpoint(Region);
}
