using AppHost.Aws;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Pipeline.Contracts;
using Pipeline.Engine.Generation;
using Pipeline.Storage.Batches;
using Pipeline.Topology;
using Pipeline.Topology.Access;

namespace AppHost.Commands;

/// <summary>
/// Commands on the Aspire dashboard where a person reaches for them while the pipeline runs locally. They run in the
/// AppHost process with its own access to AWS (the emulators' placeholder credentials, or the default chain), never
/// with a service's role: the dashboard service stays read-only.
/// </summary>
internal static class PipelineCommands
{
    /// <summary>The sample's size: enough for every chart to have a month of days, small enough to finish in seconds.</summary>
    public const int SampleOrders = 3_000;
    public const int SampleDays = 31;

    /// <summary>"Submit sample batch": a generated batch (orders of its own, the last 31 days) uploaded and submitted as <c>pipeline submit</c> does.</summary>
    public static IResourceBuilder<T> WithSubmitSampleBatchCommand<T>(this IResourceBuilder<T> resource, AwsEnvironment aws, PipelineTopology topology)
        where T : IResource =>
        resource.WithCommand("submit-sample-batch", "Submit sample batch", async context =>
        {
            var now = DateTimeOffset.UtcNow;
            var name = $"sample-{now:yyyyMMdd-HHmmss}";
            var folder = Directory.CreateTempSubdirectory("pipeline-sample-").FullName;
            try
            {
                var options = new GeneratorOptions(SampleOrders, Parts: 2, Seed: (ulong)now.ToUnixTimeSeconds(), Days: SampleDays, Products: 500)
                {
                    FirstDay = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-SampleDays),
                    // Ids of its own (an order is counted in one batch only): far above the seed data's, one range per second.
                    IdOffset = now.ToUnixTimeSeconds() * 1_000_000L,
                };
                SyntheticBatchGenerator.Generate(folder, options);
                using var clients = await AwsClients.ConnectAsync(aws, context.CancellationToken);
                var uploaded = await new BatchUploader(clients.S3, new S3BatchStore(clients.S3))
                    .UploadAsync(topology.Bucket.Name, folder, name, null, context.CancellationToken);
                await clients.Bus("apphost").PublishAsync(
                    new BatchSubmitted(name, uploaded.Bucket, uploaded.ManifestKey, uploaded.ManifestETag, now, "apphost"), context.CancellationToken);
                return CommandResults.Success($"Batch {name} submitted: {SampleOrders:N0} orders over the last {SampleDays} days.");
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }, new CommandOptions
        {
            Description = $"Generates a batch of {SampleOrders:N0} orders over the last {SampleDays} days and submits it, as `pipeline submit` would.",
            IconName = "DocumentArrowUp",
            UpdateState = WhenHealthy,
        });

    /// <summary>"Redrive dead letters": every dead letter of the service's queues moved back to its queue (as <c>pipeline dlq redrive</c>).</summary>
    public static IResourceBuilder<ProjectResource> WithRedriveDeadLettersCommand(
        this IResourceBuilder<ProjectResource> resource, AwsEnvironment aws, ServiceAccess service) =>
        resource.WithCommand("redrive-dead-letters", "Redrive dead letters", async context =>
        {
            using var clients = await AwsClients.ConnectAsync(aws, context.CancellationToken);
            var moved = new List<string>();
            foreach (var queue in service.Consumes)
            {
                var count = await new EventBus.AwsSqs.DeadLetterQueue(clients.Sqs, queue.Name).RedriveAsync(cancellationToken: context.CancellationToken);
                moved.Add($"{count} from {queue.DeadLetterQueueName}");
            }
            return CommandResults.Success($"Moved back to their queues: {string.Join(", ", moved)}.");
        }, new CommandOptions
        {
            Description = $"Moves the dead letters of {string.Join(" and ", service.Consumes.Select(q => q.Name))} back to be processed again.",
            IconName = "ArrowRepeatAll",
            UpdateState = WhenHealthy,
        });

    private static ResourceCommandState WhenHealthy(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.HealthStatus is HealthStatus.Healthy ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;
}
