using System.Collections.Concurrent;
using Pipeline.Testing.Aws;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>
/// What a call costs in AWS, per service and operation, from AWS's documentation and a published measurement (the sources
/// are in docs/pipeline-performance.md, "AWS-like latency"): the proxy waits this long before it forwards each AWS call
/// of the services, and the emulator's own time (about a millisecond a call here) comes on top. Only the wait per call
/// is added: transfer time of large bodies is the emulator's, not AWS's bandwidth. Counts every call by operation.
/// </summary>
internal sealed class AwsLatencyPlan : IAwsCallPlan
{
    /// <summary>S3 requests of less than 512 KB: "median latencies are often in the tens of milliseconds" (S3 performance guide).</summary>
    public static readonly TimeSpan S3 = TimeSpan.FromMilliseconds(30);

    /// <summary>DynamoDB's atomic operations (GetItem, PutItem, UpdateItem, DeleteItem): an average in single-digit milliseconds.</summary>
    public static readonly TimeSpan DynamoDbItem = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// DynamoDB's Query, Scan and batch operations, whose latency "depends on the size of the result set" (no figure is
    /// published): twice an item operation's.
    /// </summary>
    public static readonly TimeSpan DynamoDbMany = TimeSpan.FromMilliseconds(10);

    /// <summary>An SQS request from EC2 in the same region: "averages 20 ms" (SQS developer guide).</summary>
    public static readonly TimeSpan Sqs = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// An SNS Publish: the request (taken as SQS's 20 ms; AWS publishes no figure for it) and the delivery to the subscribed
    /// queue (a p50 of 73 ms measured for SNS standard topics). The emulator delivers at once, inside itself, where the
    /// proxy cannot wait, so the delivery is added to the Publish that causes it.
    /// </summary>
    public static readonly TimeSpan SnsPublish = TimeSpan.FromMilliseconds(20 + 73);

    private static readonly HashSet<string> DynamoDbItemOperations = ["GetItem", "PutItem", "UpdateItem", "DeleteItem"];

    private readonly ConcurrentDictionary<AwsCall, long> _calls = new();

    /// <summary>One line for the report's conditions.</summary>
    public static string Describe() =>
        $"S3 {S3.TotalMilliseconds:F0} ms a call; DynamoDB {DynamoDbItem.TotalMilliseconds:F0} ms an item operation, " +
        $"{DynamoDbMany.TotalMilliseconds:F0} ms a query or batch; SQS {Sqs.TotalMilliseconds:F0} ms; SNS Publish {SnsPublish.TotalMilliseconds:F0} ms " +
        "(request and delivery to the queue)";

    public ProxyDecision Decide(AwsCall call)
    {
        _calls.AddOrUpdate(call, 1, (_, n) => n + 1);
        return new ProxyDecision(null, LatencyOf(call));
    }

    public static TimeSpan LatencyOf(AwsCall call) => call.Service switch
    {
        AwsService.S3 => S3,
        AwsService.DynamoDb => DynamoDbItemOperations.Contains(call.Operation) ? DynamoDbItem : DynamoDbMany,
        AwsService.Sqs => Sqs,
        _ => call.Operation == "Publish" ? SnsPublish : Sqs,
    };

    /// <summary>The calls made so far, by operation.</summary>
    public IReadOnlyDictionary<AwsCall, long> Calls() => new Dictionary<AwsCall, long>(_calls);
}
