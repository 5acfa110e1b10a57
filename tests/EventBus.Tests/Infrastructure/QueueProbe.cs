using Amazon.SQS;
using Amazon.SQS.Model;

namespace EventBus.Tests.Infrastructure;

/// <summary>Direct SQS reads for assertions: what is left in a queue, visible or in flight.</summary>
public static class QueueProbe
{
    public static async Task<(int Visible, int InFlight)> CountAsync(IAmazonSQS sqs, string queueName)
    {
        var url = (await sqs.GetQueueUrlAsync(queueName)).QueueUrl;
        var attributes = await sqs.GetQueueAttributesAsync(url, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]);
        return (attributes.ApproximateNumberOfMessages, attributes.ApproximateNumberOfMessagesNotVisible);
    }

    public static async Task SendAsync(IAmazonSQS sqs, string queueName, string body, Dictionary<string, string>? attributes = null)
    {
        var url = (await sqs.GetQueueUrlAsync(queueName)).QueueUrl;
        await sqs.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = url,
            MessageBody = body,
            MessageAttributes = attributes?.ToDictionary(a => a.Key, a => new MessageAttributeValue { DataType = "String", StringValue = a.Value }),
        });
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }
            await Task.Delay(100);
        }
    }
}
