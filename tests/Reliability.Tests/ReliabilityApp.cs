using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Testing.Aws;
using Pipeline.Topology;
using ServiceDefaults.Aws;

namespace Reliability.Tests;

/// <summary>
/// The real AppHost on the emulators with the fault proxy between the services and the emulators: each service's
/// S3, SQS, SNS and DynamoDB clients call the proxy (<c>Aws:ServiceUrls</c>), while the provisioner and the tests'
/// own clients go straight to the emulators. The stage queues get a visibility timeout of
/// <see cref="StageVisibilityTimeout"/> instead of five minutes, so that the message a killed stage held comes back
/// within the run; everything else is the app as it ships.
/// </summary>
public sealed class ReliabilityApp(AwsProxy proxy) : EmulatorApp
{
    public static readonly TimeSpan StageVisibilityTimeout = TimeSpan.FromSeconds(20);

    /// <summary>How often the Notifier looks for dead letters and stalled versions.</summary>
    public static readonly TimeSpan NotifierCheckInterval = TimeSpan.FromSeconds(3);

    protected override TimeSpan StartupTimeout => TimeSpan.FromMinutes(5);

    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var service in ServiceResources(builder))
        {
            // Started once the proxy knows where the emulators are and the queues are set (OnProvisionedAsync).
            service.WithExplicitStart();
            proxy.Route(service);
            if (service.Resource.Name == "notifier")
            {
                service.WithEnvironment("Notifier__CheckInterval", NotifierCheckInterval.ToString());
            }
        }
    }

    protected override async Task OnProvisionedAsync(CancellationToken cancellationToken)
    {
        proxy.SetTargets(Aws);
        var topology = new PipelineTopology();
        using (var sqs = AwsClientFactory.CreateSqs(Aws, Credentials))
        {
            foreach (var queue in new[] { topology.ValidateQueue, topology.TransformQueue, topology.ComputeQueue })
            {
                await sqs.SetQueueAttributesAsync(new SetQueueAttributesRequest
                {
                    QueueUrl = (await sqs.GetQueueUrlAsync(queue.Name, cancellationToken)).QueueUrl,
                    Attributes = new()
                    {
                        [QueueAttributeName.VisibilityTimeout] =
                            ((int)StageVisibilityTimeout.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    },
                }, cancellationToken);
            }
        }
        var commands = App.Services.GetRequiredService<ResourceCommandService>();
        foreach (var service in Services)
        {
            var started = await commands.ExecuteCommandAsync(service, KnownResourceCommands.StartCommand, cancellationToken);
            if (!started.Success)
            {
                throw new InvalidOperationException($"{service} did not start: {started.Message}");
            }
        }
    }
}
