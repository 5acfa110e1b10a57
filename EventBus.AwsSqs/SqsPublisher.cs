using Amazon.SQS;
using Aws.Sns;

namespace EventBus.AwsSqs;

/// <summary>A publish-only bus, for tools and tests that send messages but receive none (no endpoint queue of their own).</summary>
public static class SqsPublisher
{
    /// <param name="sourceName">How the messages name their source (<c>amazonsqs://{region}/{sourceName}</c>), such as <c>pipeline-cli</c>.</param>
    /// <param name="mode"><see cref="TopologyMode.Verify"/>: topics must exist already; <see cref="TopologyMode.Ensure"/> creates missing ones.</param>
    /// <param name="topicScope">The scope of the topics (<see cref="SqsEventBusOptions.TopicScope"/>), as the receiving services have it.</param>
    public static IEventBus Create(IAmazonSQS sqs, SnsClient sns, string sourceName, TopologyMode mode = TopologyMode.Verify, string? topicScope = null) =>
        new SqsEventBus(sns, new SqsTopology(sqs, sns, mode), sourceName, SqsEventBusOptions.SnsMaxMessageBytes, topicScope);
}
