using Pipeline.Contracts.Alerts;
using Amazon.Runtime;
using Amazon.SQS.Model;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Aws.Sns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using EventBus;
using EventBus.AwsSqs;
using Pipeline.Contracts;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Runs;
using Pipeline.Topology;
using ServiceDefaults.Aws;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>
/// The real AppHost in emulator mode (fauxqs and dynalite on their own ports, every service healthy), with the
/// clients a user of <c>pipeline submit</c> would have: upload, publish, read alerts and run records.
/// </summary>
internal sealed class RunningPipeline : IAsyncDisposable
{
    private static readonly string[] Services = ["validate", "transform", "compute", "notifier"];
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromMinutes(3);

    private readonly DistributedApplication _app;
    private readonly Amazon.S3.AmazonS3Client _s3;
    private readonly Amazon.SQS.AmazonSQSClient _sqs;
    private readonly Amazon.DynamoDBv2.AmazonDynamoDBClient _dynamoDb;
    private readonly IEventBus _bus;
    private readonly string _alertsInboxUrl;

    private RunningPipeline(DistributedApplication app, AwsOptions aws, string alertsInboxUrl)
    {
        _app = app;
        var credentials = new BasicAWSCredentials(Emulators.EmulatorInstallation.AccessKeyId, Emulators.EmulatorInstallation.SecretAccessKey);
        _s3 = AwsClientFactory.CreateS3(aws, credentials);
        _sqs = AwsClientFactory.CreateSqs(aws, credentials);
        _dynamoDb = AwsClientFactory.CreateDynamoDb(aws, credentials);
        _bus = SqsPublisher.Create(_sqs, SnsClient.Create(AwsClientFactory.SnsOptions(aws, credentials)), "pipeline-benchmark");
        _alertsInboxUrl = alertsInboxUrl;
        Runs = new PipelineRunStore(_dynamoDb, Topology, TimeProvider.System);
    }

    public PipelineTopology Topology { get; } = new();

    public PipelineRunStore Runs { get; }

    public static async Task<RunningPipeline> StartAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--Aws:Emulator=emulators", "--DcpPublisher:WaitForResourceCleanup=false"]);
        // The services' own logs go to the dashboard; here they would bury the figures.
        builder.Services.AddLogging(logging => logging.AddFilter("AppHost.Resources", LogLevel.Error).AddFilter("Aspire.Hosting", LogLevel.Error));
        var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(StartupTimeout);
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceAsync("provisioner", KnownResourceStates.Finished, timeout.Token);
        await Task.WhenAll(Services.Select(s => app.ResourceNotifications.WaitForResourceHealthyAsync(s, timeout.Token)));

        var aws = new AwsOptions
        {
            Region = Emulators.EmulatorInstallation.Region,
            ServiceUrl = Loopback(app.GetEndpoint("aws-emulator", "http")),
            ServiceUrls = { ["DynamoDB"] = Loopback(app.GetEndpoint("dynamodb-emulator", "http")) },
        };
        using var sqs = AwsClientFactory.CreateSqs(aws, new BasicAWSCredentials(Emulators.EmulatorInstallation.AccessKeyId, Emulators.EmulatorInstallation.SecretAccessKey));
        var inbox = (await sqs.GetQueueUrlAsync(new PipelineTopology().AlertsInboxQueue.Name)).QueueUrl;
        return new RunningPipeline(app, aws, inbox);
    }

    /// <summary>What <c>pipeline submit</c> does: uploads the folder as batch <paramref name="name"/>, then publishes <see cref="BatchSubmitted"/>.</summary>
    public async Task<UploadedBatch> SubmitAsync(string folder, string name)
    {
        var uploaded = await new BatchUploader(_s3, new S3BatchStore(_s3)).UploadAsync(Topology.Bucket.Name, folder, name, null, CancellationToken.None);
        await _bus.PublishAsync(new BatchSubmitted(name, uploaded.Bucket, uploaded.ManifestKey, uploaded.ManifestETag, DateTimeOffset.UtcNow, "cli"));
        return uploaded;
    }

    /// <summary>The next alert about <paramref name="batchId"/> (alerts about other batches are dropped).</summary>
    public async Task<Alert> NextAlertAsync(string batchId, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            var received = await _sqs.ReceiveMessageAsync(
                new ReceiveMessageRequest { QueueUrl = _alertsInboxUrl, WaitTimeSeconds = 1, MaxNumberOfMessages = 10 }, deadline.Token);
            foreach (var message in received.Messages ?? [])
            {
                await _sqs.DeleteMessageAsync(_alertsInboxUrl, message.ReceiptHandle, deadline.Token);
                var alert = Alert.FromJson(message.Body);
                if (alert.BatchId == batchId)
                {
                    return alert;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _s3.Dispose();
        _sqs.Dispose();
        _dynamoDb.Dispose();
        await _app.DisposeAsync();
    }

    private static Uri Loopback(Uri endpoint) => new UriBuilder(endpoint) { Host = "127.0.0.1" }.Uri;
}
