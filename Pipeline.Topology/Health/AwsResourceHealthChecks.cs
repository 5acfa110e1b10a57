using Amazon.DynamoDBv2;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.SQS;
using Aws.Sns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;
using Pipeline.Topology.Access;

namespace Pipeline.Topology.Health;

/// <summary>
/// Readiness checks that really reach the AWS resources a service depends on, with the least permission:
/// list one key of the bucket, look the queue up, describe the table, find the topic.
/// </summary>
public static class AwsResourceHealthChecks
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly string[] Tags = ["aws"];

    /// <summary>
    /// A check for every resource the service's access declaration names, so that readiness probes exactly what the
    /// service's IAM role allows: a resource or a permission missing in AWS keeps the service unhealthy.
    /// </summary>
    public static IHealthChecksBuilder AddAccessChecks(this IHealthChecksBuilder builder, PipelineTopology topology, ServiceAccess access)
    {
        if (access.Objects.Count > 0)
        {
            builder.AddBucket(topology.Bucket);
        }
        foreach (var queue in access.Consumes)
        {
            builder.AddQueue(queue);
        }
        foreach (var queue in access.WatchesDeadLetters)
        {
            builder.AddDeadLetterQueue(queue);
        }
        foreach (var queue in access.ReadsQueueDepths)
        {
            builder.AddQueue(queue);
        }
        foreach (var topic in access.SubscribedTopics(topology).Union(access.Publishes))
        {
            builder.AddTopic(topic);
        }
        foreach (var grant in access.Tables)
        {
            builder.AddTable(grant.Table);
        }
        return builder;
    }

    public static IHealthChecksBuilder AddBucket(this IHealthChecksBuilder builder, BucketSpec bucket) =>
        builder.AddProbe($"s3:{bucket.Name}", async (sp, ct) =>
            await sp.GetRequiredService<IAmazonS3>()
                .ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket.Name, MaxKeys = 1 }, ct)
                .ConfigureAwait(false));

    public static IHealthChecksBuilder AddQueue(this IHealthChecksBuilder builder, QueueSpec queue) =>
        builder.AddProbe($"sqs:{queue.Name}", async (sp, ct) =>
        {
            var sqs = sp.GetRequiredService<IAmazonSQS>();
            await sqs.GetQueueUrlAsync(queue.Name, ct).ConfigureAwait(false);
            await sqs.GetQueueUrlAsync(queue.DeadLetterQueueName, ct).ConfigureAwait(false);
        });

    public static IHealthChecksBuilder AddDeadLetterQueue(this IHealthChecksBuilder builder, QueueSpec queue) =>
        builder.AddProbe($"sqs:{queue.DeadLetterQueueName}", async (sp, ct) =>
            await sp.GetRequiredService<IAmazonSQS>().GetQueueUrlAsync(queue.DeadLetterQueueName, ct).ConfigureAwait(false));

    public static IHealthChecksBuilder AddTable(this IHealthChecksBuilder builder, TableSpec table) =>
        builder.AddProbe($"dynamodb:{table.Name}", async (sp, ct) =>
        {
            var description = await sp.GetRequiredService<IAmazonDynamoDB>().DescribeTableAsync(table.Name, ct).ConfigureAwait(false);
            if (description.Table.TableStatus != Amazon.DynamoDBv2.TableStatus.ACTIVE)
            {
                throw new InvalidOperationException($"table {table.Name} is {description.Table.TableStatus.Value}");
            }
        });

    public static IHealthChecksBuilder AddTopic(this IHealthChecksBuilder builder, TopicSpec topic) =>
        builder.AddProbe($"sns:{topic.Name}", async (sp, ct) =>
        {
            if (await sp.GetRequiredService<SnsClient>().FindTopicArnAsync(topic.Name, ct).ConfigureAwait(false) is null)
            {
                throw new InvalidOperationException($"topic {topic.Name} does not exist");
            }
        });

    private static IHealthChecksBuilder AddProbe(this IHealthChecksBuilder builder, string name, Func<IServiceProvider, CancellationToken, Task> probe) =>
        builder.Add(new HealthCheckRegistration(name, sp => new ProbeHealthCheck(sp, probe), HealthStatus.Unhealthy, Tags, Timeout));

    private sealed class ProbeHealthCheck(IServiceProvider services, Func<IServiceProvider, CancellationToken, Task> probe) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            // Probes run every few seconds; their AWS calls would bury the traces that matter.
            using var quiet = SuppressInstrumentationScope.Begin();
            try
            {
                await probe(services, cancellationToken).ConfigureAwait(false);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, $"{context.Registration.Name}: {e.Message}", e);
            }
        }
    }
}
