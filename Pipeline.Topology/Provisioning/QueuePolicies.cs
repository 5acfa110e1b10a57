using System.Text.Json;

namespace Pipeline.Topology.Provisioning;

/// <summary>Least-privilege queue policies: only the topics a queue subscribes to (or the bucket, for S3 events) may send to it.</summary>
internal static class QueuePolicies
{
    public static string For(QueueSpec queue, string queueArn, PipelineTopology topology, IReadOnlyDictionary<TopicSpec, string> topicArns)
    {
        var statements = new List<object>();
        var topics = topology.Subscriptions.Where(s => s.Queue == queue).Select(s => topicArns[s.Topic]).ToArray();
        if (topics.Length > 0)
        {
            statements.Add(AllowSend("AllowSubscribedTopics", "sns.amazonaws.com", queueArn, topics));
        }
        if (topology.BucketNotifications.Any(n => n.Queue == queue))
        {
            statements.Add(AllowSend("AllowBucketNotifications", "s3.amazonaws.com", queueArn, [$"arn:aws:s3:::{topology.Bucket.Name}"]));
        }

        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Version"] = "2012-10-17",
            ["Statement"] = statements,
        });
    }

    private static Dictionary<string, object> AllowSend(string sid, string service, string queueArn, string[] sourceArns) => new()
    {
        ["Sid"] = sid,
        ["Effect"] = "Allow",
        ["Principal"] = new Dictionary<string, string> { ["Service"] = service },
        ["Action"] = "sqs:SendMessage",
        ["Resource"] = queueArn,
        ["Condition"] = new Dictionary<string, object> { ["ArnEquals"] = new Dictionary<string, string[]> { ["aws:SourceArn"] = sourceArns } },
    };
}
