using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.SQS;
using Amazon.SQS.Model;
using Aws.Sns;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Topology;
using Pipeline.Topology.Provisioning;
using ServiceDefaults.Aws;

namespace AppHost.Tests;

/// <summary>The whole system started by the real AppHost on the npm emulators, checked through the AWS SDK.</summary>
[Collection(EmulatorAppCollection.Name)]
public class EmulatorModeTests(EmulatorAppFixture fixture)
{
    private readonly PipelineTopology _topology = new();

    [Fact]
    public async Task Every_resource_is_healthy_and_the_provisioner_completed_successfully()
    {
        foreach (var service in EmulatorAppFixture.Services)
        {
            Assert.True(fixture.App.ResourceNotifications.TryGetCurrentState(service, out var state));
            Assert.Equal(HealthStatus.Healthy, state!.Snapshot.HealthStatus);
        }
        Assert.True(fixture.App.ResourceNotifications.TryGetCurrentState("provisioner", out var provisioner));
        Assert.Equal(0, provisioner!.Snapshot.ExitCode);

        using var http = fixture.App.CreateHttpClient("validate");
        Assert.Equal("Healthy", await http.GetStringAsync("/health"));
    }

    [Fact]
    public async Task The_bucket_exists()
    {
        using var s3 = AwsClientFactory.CreateS3(fixture.Aws, fixture.Credentials);

        var buckets = await s3.ListBucketsAsync();

        Assert.Contains(buckets.Buckets, b => b.BucketName == PipelineTopology.DefaultBucketName);
    }

    [Theory]
    [InlineData("pipeline-category-kpis", "category", "order_date")]
    [InlineData("pipeline-order-kpis", "order_date", null)]
    [InlineData("pipeline-kpi-contributions", "batch_id", "part")]
    [InlineData("pipeline-kpi-days", "order_date", "part")]
    [InlineData("pipeline-runs", "batch_id", "version")]
    [InlineData("pipeline-order-keys", "page", null)]
    [InlineData("pipeline-data-quality", "check", "subject")]
    public async Task The_tables_exist_with_their_keys(string table, string partitionKey, string? sortKey)
    {
        using var dynamoDb = AwsClientFactory.CreateDynamoDb(fixture.Aws, fixture.Credentials);

        var description = (await dynamoDb.DescribeTableAsync(table)).Table;

        Assert.Equal(TableStatus.ACTIVE, description.TableStatus);
        Assert.Equal(ExpectedKey(partitionKey, sortKey), KeyOf(description.KeySchema));
    }

    [Fact]
    public async Task The_category_kpis_table_has_an_index_by_order_date()
    {
        using var dynamoDb = AwsClientFactory.CreateDynamoDb(fixture.Aws, fixture.Credentials);

        var description = (await dynamoDb.DescribeTableAsync("pipeline-category-kpis")).Table;

        var index = Assert.Single(description.GlobalSecondaryIndexes);
        Assert.Equal(ExpectedKey("order_date", "category"), KeyOf(index.KeySchema));
    }

    [Fact]
    public async Task The_topics_exist()
    {
        var sns = fixture.CreateSnsClient();

        var topics = (await sns.ListTopicsAsync()).TopicArns.Select(arn => arn[(arn.LastIndexOf(':') + 1)..]).ToList();

        Assert.All(
            ["Pipeline_Contracts-BatchSubmitted", "Pipeline_Contracts-BatchValidated", "Pipeline_Contracts-BatchRejected",
             "Pipeline_Contracts-BatchTransformed", "Pipeline_Contracts-KpisUpdated", "pipeline-alerts"],
            name => Assert.Contains(name, topics));
    }

    [Fact]
    public async Task Every_queue_has_a_dead_letter_queue_wired_by_redrive()
    {
        using var sqs = AwsClientFactory.CreateSqs(fixture.Aws, fixture.Credentials);

        var queues = new[]
        {
            "pipeline-validate", "pipeline-transform", "pipeline-compute", "pipeline-notifier", "pipeline-manifest-events", "pipeline-alerts-inbox",
        };
        foreach (var queue in queues)
        {
            var deadLetterUrl = (await sqs.GetQueueUrlAsync(queue + "_error")).QueueUrl;
            var deadLetterArn = (await sqs.GetQueueAttributesAsync(deadLetterUrl, [QueueAttributeName.QueueArn])).QueueARN;
            var attributes = await sqs.GetQueueAttributesAsync((await sqs.GetQueueUrlAsync(queue)).QueueUrl, [QueueAttributeName.All]);

            using var redrive = JsonDocument.Parse(attributes.Attributes[QueueAttributeName.RedrivePolicy]);
            Assert.Equal(deadLetterArn, redrive.RootElement.GetProperty("deadLetterTargetArn").GetString());
            Assert.Equal("10", redrive.RootElement.GetProperty("maxReceiveCount").ToString()); // 5 handled receives and 5 spare
        }
    }

    [Theory]
    [InlineData("Pipeline_Contracts-BatchSubmitted", "pipeline-validate")]
    [InlineData("Pipeline_Contracts-BatchValidated", "pipeline-transform")]
    [InlineData("Pipeline_Contracts-BatchTransformed", "pipeline-compute")]
    [InlineData("Pipeline_Contracts-KpisUpdated", "pipeline-notifier")]
    [InlineData("Pipeline_Contracts-BatchRejected", "pipeline-notifier")]
    [InlineData("pipeline-alerts", "pipeline-alerts-inbox")]
    public async Task Each_queue_is_subscribed_to_its_topics(string topic, string queue)
    {
        var sns = fixture.CreateSnsClient();
        using var sqs = AwsClientFactory.CreateSqs(fixture.Aws, fixture.Credentials);
        var queueArn = (await sqs.GetQueueAttributesAsync((await sqs.GetQueueUrlAsync(queue)).QueueUrl, [QueueAttributeName.QueueArn])).QueueARN;

        var subscriptions = await sns.ListAllSubscriptionsByTopicAsync((await sns.FindTopicArnAsync(topic))!);

        Assert.Contains(subscriptions, s => s.Protocol == "sqs" && s.Endpoint == queueArn);
    }

    [Fact]
    public async Task A_publish_through_our_sns_client_reaches_the_subscribed_queue_as_is()
    {
        var sns = fixture.CreateSnsClient();
        using var sqs = AwsClientFactory.CreateSqs(fixture.Aws, fixture.Credentials);
        var inbox = (await sqs.GetQueueUrlAsync(_topology.AlertsInboxQueue.Name)).QueueUrl;
        var body = $$"""{"status":"Succeeded","batchId":"{{Guid.NewGuid()}}"}""";

        await sns.PublishAsync(new PublishRequest((await sns.FindTopicArnAsync(_topology.AlertsTopic.Name))!, body)
        {
            MessageAttributes = new Dictionary<string, SnsMessageAttributeValue> { ["Content-Type"] = SnsMessageAttributeValue.FromString("application/json") },
        });

        // The pipeline's own alerts may share the inbox; look for this message among them, and leave them be.
        Message? message = null;
        for (var attempt = 0; message is null && attempt < 10; attempt++)
        {
            var received = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest
            {
                QueueUrl = inbox,
                WaitTimeSeconds = 2,
                MaxNumberOfMessages = 10,
                VisibilityTimeout = 0,
                MessageAttributeNames = ["All"],
            });
            message = received.Messages?.FirstOrDefault(m => m.Body == body); // raw delivery: exactly the body published
        }
        Assert.NotNull(message);
        Assert.Equal("application/json", message.MessageAttributes["Content-Type"].StringValue);
        await sqs.DeleteMessageAsync(inbox, message.ReceiptHandle);
    }

    [Fact]
    public async Task Applying_the_topology_again_changes_nothing_and_duplicates_nothing()
    {
        using var s3 = AwsClientFactory.CreateS3(fixture.Aws, fixture.Credentials);
        using var sqs = AwsClientFactory.CreateSqs(fixture.Aws, fixture.Credentials);
        using var dynamoDb = AwsClientFactory.CreateDynamoDb(fixture.Aws, fixture.Credentials);
        var sns = fixture.CreateSnsClient();
        var provisioner = new TopologyProvisioner(s3, sqs, dynamoDb, sns, NullLogger<TopologyProvisioner>.Instance);
        var queuesBefore = (await sqs.ListQueuesAsync(new ListQueuesRequest())).QueueUrls;

        await provisioner.ApplyAsync(_topology, CancellationToken.None);

        Assert.Equal(queuesBefore.Order(), (await sqs.ListQueuesAsync(new ListQueuesRequest())).QueueUrls.Order());
        var notifierSubscriptions = await sns.ListAllSubscriptionsByTopicAsync((await sns.FindTopicArnAsync(_topology.KpisUpdatedTopic.Name))!);
        Assert.Single(notifierSubscriptions);
    }

    private static string ExpectedKey(string partitionKey, string? sortKey) =>
        sortKey is null ? $"{partitionKey} HASH" : $"{partitionKey} HASH, {sortKey} RANGE";

    private static string KeyOf(List<KeySchemaElement> schema) =>
        string.Join(", ", schema.Select(k => $"{k.AttributeName} {k.KeyType.Value}"));
}
