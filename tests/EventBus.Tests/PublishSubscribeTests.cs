using Amazon.SQS.Model;
using Emulators;
using EventBus.AwsSqs;
using EventBus.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventBus.Tests;

/// <summary>Publishing and consuming between bus instances, in every body format a queue can receive.</summary>
public class PublishSubscribeTests(AwsEmulatorFixture aws) : IClassFixture<AwsEmulatorFixture>
{
    [Fact]
    public async Task A_message_published_by_one_bus_is_handled_by_another_with_its_context()
    {
        var received = new Received<OrderPlaced>();
        await using var consumer = await BusHost.StartAsync(aws, "orders-consumer",
            bus => bus.AddSubscription<OrderPlaced, RecordingHandler<OrderPlaced>>(),
            services: s => s.AddSingleton(received));
        await using var producer = await BusHost.StartAsync(aws, "orders-producer");

        await producer.Bus.PublishAsync(new OrderPlaced("o-1", 12.50m));

        var (message, context) = Assert.Single(await received.WaitForAsync(1));
        Assert.Equal(new OrderPlaced("o-1", 12.50m), message);
        Assert.True(Guid.TryParse(context.MessageId, out var messageId));
        Assert.Equal(messageId, context.ConversationId);
        Assert.Null(context.InitiatorId);
        Assert.Equal(new Uri($"amazonsqs://{EmulatorInstallation.Region}/orders-producer"), context.SourceAddress);
        Assert.Equal(new Uri($"amazonsqs://{EmulatorInstallation.Region}/EventBus_Tests-OrderPlaced?type=topic"), context.DestinationAddress);
        Assert.Equal(["urn:message:EventBus.Tests:OrderPlaced"], context.MessageTypes);
        Assert.Equal(1, context.ReceiveCount);
        Assert.Equal("orders-consumer", context.Endpoint);
        Assert.NotNull(context.SentTime);

        using var sqs = aws.CreateSqsClient();
        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, "orders-consumer") == (0, 0), "the handled message is deleted");
    }

    [Fact]
    public async Task A_message_published_from_a_handler_carries_the_conversation_forward()
    {
        var shipped = new Received<OrderShipped>();
        await using var shipping = await BusHost.StartAsync(aws, "shipping",
            bus => bus.AddSubscription<OrderPlaced, ShipOnOrderPlaced>());
        await using var tracking = await BusHost.StartAsync(aws, "tracking",
            bus => bus.AddSubscription<OrderShipped, RecordingHandler<OrderShipped>>(),
            services: s => s.AddSingleton(shipped));
        var received = new Received<OrderPlaced>();
        await using var producer = await BusHost.StartAsync(aws, "shop");

        await producer.Bus.PublishAsync(new OrderPlaced("o-2", 3m));

        var (message, context) = Assert.Single(await shipped.WaitForAsync(1));
        Assert.Equal(new OrderShipped("o-2", "post"), message);
        Assert.NotNull(context.InitiatorId);
        Assert.Equal(context.InitiatorId, context.ConversationId); // the first message started the conversation
        Assert.NotEqual(context.InitiatorId.ToString(), context.MessageId);
        Assert.Equal(new Uri($"amazonsqs://{EmulatorInstallation.Region}/shipping"), context.SourceAddress);
    }

    private sealed class ShipOnOrderPlaced(IEventBus bus) : IIntegrationEventHandler<OrderPlaced>
    {
        public Task HandleAsync(OrderPlaced message, MessageContext context, CancellationToken cancellationToken) =>
            bus.PublishAsync(new OrderShipped(message.OrderId, "post"), cancellationToken);
    }

    [Fact]
    public async Task One_message_fans_out_to_every_subscribed_service()
    {
        var billing = new Received<StockReserved>();
        var warehouse = new Received<StockReserved>();
        await using var first = await BusHost.StartAsync(aws, "fan-billing",
            bus => bus.AddSubscription<StockReserved, RecordingHandler<StockReserved>>(), services: s => s.AddSingleton(billing));
        await using var second = await BusHost.StartAsync(aws, "fan-warehouse",
            bus => bus.AddSubscription<StockReserved, RecordingHandler<StockReserved>>(), services: s => s.AddSingleton(warehouse));

        await first.Bus.PublishAsync(new StockReserved("sku-1", 2));
        await first.Bus.PublishAsync(new StockReserved("sku-2", 5));

        Assert.Equal(["sku-1", "sku-2"], (await billing.WaitForAsync(2)).Select(r => r.Message.Sku).Order());
        Assert.Equal(["sku-1", "sku-2"], (await warehouse.WaitForAsync(2)).Select(r => r.Message.Sku).Order());
    }

    [Fact]
    public async Task A_subscription_without_raw_delivery_delivers_an_sns_wrapped_body_that_is_unwrapped()
    {
        var received = new Received<PaymentFailed>();
        await using var consumer = await BusHost.StartAsync(aws, "payments-wrapped",
            bus => bus.AddSubscription<PaymentFailed, RecordingHandler<PaymentFailed>>(), services: s => s.AddSingleton(received));
        var sns = aws.CreateSnsClient();
        using var sqs = aws.CreateSqsClient();
        var topicArn = await sns.FindTopicArnAsync("EventBus_Tests-PaymentFailed");
        var subscription = Assert.Single(await sns.ListAllSubscriptionsByTopicAsync(topicArn!));
        await sns.SetSubscriptionAttributesAsync(new Aws.Sns.SetSubscriptionAttributesRequest(subscription.SubscriptionArn, "RawMessageDelivery", "false"));

        await consumer.Bus.PublishAsync(new PaymentFailed("o-3", "card declined"));

        var (message, context) = Assert.Single(await received.WaitForAsync(1));
        Assert.Equal(new PaymentFailed("o-3", "card declined"), message);
        Assert.Equal(["urn:message:EventBus.Tests:PaymentFailed"], context.MessageTypes);
        Assert.True(Guid.TryParse(context.MessageId, out _));
    }

    [Fact]
    public async Task A_plain_json_queue_takes_s3_event_notifications()
    {
        var received = new Received<S3EventNotification>();
        await using var host = await BusHost.StartAsync(aws, "s3-events-endpoint",
            bus => bus.AddPlainJsonQueue<S3EventNotification, RecordingHandler<S3EventNotification>>("manifest-events"),
            services: s => s.AddSingleton(received));
        using var sqs = aws.CreateSqsClient();

        // S3's documented event message, as S3 writes it to a queue (the emulator never sends these itself).
        await QueueProbe.SendAsync(sqs, "manifest-events", """
            {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2025-04-09T06:00:00.000Z",
            "eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","configurationId":"manifests",
            "bucket":{"name":"ecommerce-pipeline-data","arn":"arn:aws:s3:::ecommerce-pipeline-data"},
            "object":{"key":"data/20250409/manifest_20250409.json","size":211,"eTag":"9b2cf535f27731c974343645a3985328","sequencer":"0062E99A88DC407460"}}}]}
            """);

        var (message, context) = Assert.Single(await received.WaitForAsync(1));
        var record = Assert.Single(message.Records);
        Assert.Equal("ObjectCreated:Put", record.EventName);
        Assert.Equal("ecommerce-pipeline-data", record.S3.Bucket.Name);
        Assert.Equal("data/20250409/manifest_20250409.json", record.S3.Object.Key);
        Assert.Equal("9b2cf535f27731c974343645a3985328", record.S3.Object.ETag);
        Assert.Equal("manifest-events", context.Endpoint);
        Assert.False(string.IsNullOrEmpty(context.MessageId));
        Assert.Equal(1, context.ReceiveCount);
    }

    [Fact]
    public async Task A_bus_without_subscriptions_only_publishes_and_creates_no_queue()
    {
        await using var producer = await BusHost.StartAsync(aws, "publisher-only");
        using var sqs = aws.CreateSqsClient();

        await producer.Bus.PublishAsync(new Ping(1));

        await Assert.ThrowsAsync<QueueDoesNotExistException>(() => sqs.GetQueueUrlAsync("publisher-only"));
        Assert.NotNull(await aws.CreateSnsClient().FindTopicArnAsync("EventBus_Tests-Ping"));
    }

    [Fact]
    public async Task Verify_mode_refuses_to_start_when_the_queue_is_missing()
    {
        using var host = BusHost.Build(aws, "never-provisioned",
            bus => bus.AddSubscription<Ping, RecordingHandler<Ping>>(),
            options => options.Topology = TopologyMode.Verify,
            services: s => s.AddSingleton(new Received<Ping>()));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("never-provisioned_error does not exist", error.Message);
    }
}

// The parts of S3's event notification the tests read (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
public sealed record S3EventNotification(IReadOnlyList<S3EventRecord> Records);
public sealed record S3EventRecord(string EventName, S3Entity S3);
public sealed record S3Entity(S3BucketEntity Bucket, S3ObjectEntity Object);
public sealed record S3BucketEntity(string Name);
public sealed record S3ObjectEntity(string Key, long Size, string ETag);
