using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using Emulators;

namespace Aws.Sns.Tests;

/// <summary>Starts the S3/SQS/SNS emulator once for the test class, on a free port.</summary>
public sealed class AwsEmulatorFixture : IAsyncLifetime
{
    public LocalEmulator Emulator { get; private set; } = null!;

    public BasicAWSCredentials Credentials { get; } = new(EmulatorInstallation.AccessKeyId, EmulatorInstallation.SecretAccessKey);

    public SnsClient CreateSnsClient() => SnsClient.Create(new SnsClientOptions
    {
        Region = EmulatorInstallation.Region,
        ServiceUrl = Emulator.ServiceUrl,
        Credentials = Credentials,
    });

    public AmazonSQSClient CreateSqsClient() => new(Credentials, new AmazonSQSConfig
    {
        ServiceURL = Emulator.ServiceUrl.ToString(),
        AuthenticationRegion = EmulatorInstallation.Region,
    });

    public async Task InitializeAsync() => Emulator = await LocalEmulator.StartAsync(EmulatedService.Aws);

    public async Task DisposeAsync() => await Emulator.DisposeAsync();
}

/// <summary>The client against a real SNS implementation (the local emulator) over HTTP.</summary>
public class SnsClientEmulatorTests(AwsEmulatorFixture aws) : IClassFixture<AwsEmulatorFixture>
{
    [Fact]
    public async Task A_message_published_to_a_topic_reaches_a_raw_delivery_queue_with_its_attributes()
    {
        var sns = aws.CreateSnsClient();
        using var sqs = aws.CreateSqsClient();
        var queueUrl = (await sqs.CreateQueueAsync("sns-client-raw")).QueueUrl;
        var queueArn = (await sqs.GetQueueAttributesAsync(queueUrl, [QueueAttributeName.QueueArn])).QueueARN;

        var topicArn = (await sns.CreateTopicAsync(new CreateTopicRequest("sns-client-topic"))).TopicArn;
        Assert.Equal(topicArn, (await sns.CreateTopicAsync(new CreateTopicRequest("sns-client-topic"))).TopicArn);
        var subscription = await sns.SubscribeAsync(new SubscribeRequest(topicArn, "sqs", queueArn));
        await sns.SetSubscriptionAttributesAsync(new SetSubscriptionAttributesRequest(subscription.SubscriptionArn, "RawMessageDelivery", "true"));

        var published = await sns.PublishAsync(new PublishRequest(topicArn, """{"batch":"20250409"}""")
        {
            MessageAttributes = new Dictionary<string, SnsMessageAttributeValue>
            {
                ["Content-Type"] = SnsMessageAttributeValue.FromString("application/vnd.masstransit+json"),
            },
        });
        Assert.False(string.IsNullOrEmpty(published.MessageId));

        var received = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest
        {
            QueueUrl = queueUrl,
            WaitTimeSeconds = 5,
            MessageAttributeNames = ["All"],
        });
        var message = Assert.Single(received.Messages);
        Assert.Equal("""{"batch":"20250409"}""", message.Body);
        Assert.Equal("application/vnd.masstransit+json", message.MessageAttributes["Content-Type"].StringValue);

        var subscriptions = await sns.ListAllSubscriptionsByTopicAsync(topicArn);
        var listed = Assert.Single(subscriptions);
        Assert.Equal(("sqs", queueArn, subscription.SubscriptionArn), (listed.Protocol, listed.Endpoint, listed.SubscriptionArn));
        Assert.Equal(topicArn, await sns.FindTopicArnAsync("sns-client-topic"));
        Assert.Null(await sns.FindTopicArnAsync("no-such-topic"));
    }

    [Fact]
    public async Task Publishing_to_a_missing_topic_fails_with_the_aws_error_code()
    {
        var sns = aws.CreateSnsClient();

        var error = await Assert.ThrowsAsync<AmazonSnsException>(() =>
            sns.PublishAsync(new PublishRequest("arn:aws:sns:us-east-1:000000000000:does-not-exist", "x")));

        Assert.Equal("NotFound", error.ErrorCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, error.StatusCode);
    }
}
