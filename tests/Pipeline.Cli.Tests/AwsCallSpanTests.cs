using System.Collections.Concurrent;
using System.Diagnostics;
using Amazon.DynamoDBv2.Model;
using Amazon.SQS.Model;
using Pipeline.Storage.Tests;
using ServiceDefaults.Aws;

namespace Pipeline.Cli.Tests;

/// <summary>
/// AWS SDK calls made through <see cref="AwsClientFactory"/>'s clients are spans from the SDK's own telemetry, named and
/// tagged as the OpenTelemetry AWS SDK conventions say, inside an operation; outside any (a poll) they are no span at all.
/// </summary>
public sealed class AwsCallSpanTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>, IDisposable
{
    private static readonly ActivitySource Test = new("AwsCallSpanTests");
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name is AwsTracing.ActivitySourceName or "AwsCallSpanTests",
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    private void Start()
    {
        _listener.ActivityStopped = _stopped.Enqueue;
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Calls_inside_an_operation_are_Service_Operation_spans_with_the_conventions_attributes()
    {
        Start();
        using var s3 = aws.CreateS3();
        using var dynamoDb = aws.CreateDynamoDb();
        using var sqs = AwsClientFactory.CreateSqs(aws.Aws, aws.Credentials);
        var bucket = aws.Topology.Bucket.Name;
        var table = aws.Topology.PipelineRunsTable.Name;
        string queueUrl;
        using (var operation = Test.StartActivity("operation"))
        {
            await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = "spans/one.txt", ContentBody = "1" });
            await s3.GetObjectMetadataAsync(bucket, "spans/one.txt");
            await dynamoDb.QueryAsync(new QueryRequest
            {
                TableName = table,
                KeyConditionExpression = "batch_id = :b",
                ExpressionAttributeValues = new() { [":b"] = new AttributeValue("no-such-batch") },
            });
            queueUrl = (await sqs.GetQueueUrlAsync(aws.Topology.NotifierQueue.Name)).QueueUrl;
            await sqs.GetQueueAttributesAsync(queueUrl, ["ApproximateNumberOfMessages"]);
        }
        var root = Assert.Single(_stopped, a => a.DisplayName == "operation");

        var put = Assert.Single(_stopped, a => a.DisplayName == "S3.PutObject");
        Assert.Equal((ActivityKind.Client, root.SpanId, root.TraceId), (put.Kind, put.ParentSpanId, put.TraceId));
        Assert.Equal(("aws-api", "S3", "PutObject", bucket, "spans/one.txt"),
            (put.Tag("rpc.system"), put.Tag("rpc.service"), put.Tag("rpc.method"), put.Tag("aws.s3.bucket"), put.Tag("aws.s3.key")));
        Assert.NotNull(put.Tag("aws.request_id"));

        var head = Assert.Single(_stopped, a => a.DisplayName == "S3.HeadObject");
        Assert.Equal(("HeadObject", bucket), (head.Tag("rpc.method"), head.Tag("aws.s3.bucket")));

        var query = Assert.Single(_stopped, a => a.DisplayName == "DynamoDB.Query");
        Assert.Equal(("aws-api", "DynamoDB", "Query", "dynamodb"),
            (query.Tag("rpc.system"), query.Tag("rpc.service"), query.Tag("rpc.method"), query.Tag("db.system")));
        Assert.Equal([table], Assert.IsType<string[]>(query.GetTagItem("aws.dynamodb.table_names")));

        var attributes = Assert.Single(_stopped, a => a.DisplayName == "SQS.GetQueueAttributes");
        Assert.Equal(("aws-api", "SQS", "aws_sqs", queueUrl, aws.Topology.NotifierQueue.Name),
            (attributes.Tag("rpc.system"), attributes.Tag("rpc.service"), attributes.Tag("messaging.system"),
             attributes.Tag("aws.sqs.queue.url"), attributes.Tag("messaging.destination.name")));

        // Only the calls: not the SDK's inner spans (credentials, each HTTP attempt).
        Assert.Equal(["DynamoDB.Query", "S3.HeadObject", "S3.PutObject", "SQS.GetQueueAttributes", "SQS.GetQueueUrl", "operation"],
            _stopped.Select(a => a.DisplayName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Calls_outside_any_operation_are_no_span()
    {
        Start();
        Assert.Null(Activity.Current);
        using var sqs = AwsClientFactory.CreateSqs(aws.Aws, aws.Credentials);
        var queueUrl = (await sqs.GetQueueUrlAsync(aws.Topology.NotifierQueue.Name)).QueueUrl;
        await sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queueUrl, WaitTimeSeconds = 0 });

        Assert.Empty(_stopped);
    }
}

/// <summary>A span's tag as text, for comparing several at once.</summary>
internal static class ActivityTags
{
    public static string? Tag(this Activity activity, string name) => activity.GetTagItem(name)?.ToString();
}
