using Amazon.SQS.Model;
using EventBus;
using EventBus.AwsSqs;
using Pipeline.Contracts;
using Pipeline.Engine.Generation;
using Pipeline.Storage.Batches;
using Pipeline.Storage.Kpis;
using Pipeline.Topology;
using ServiceDefaults.Aws;
using Services.Notifier.Alerts;

namespace AppHost.Tests;

/// <summary>Drives the running pipeline as a user would: uploads batches, submits them, reads alerts and KPIs.</summary>
public sealed class PipelineDriver(EmulatorAppFixture app) : IDisposable
{
    private static readonly TimeSpan AlertTimeout = TimeSpan.FromMinutes(2);

    private readonly Amazon.S3.AmazonS3Client _s3 = AwsClientFactory.CreateS3(app.Aws, app.Credentials);
    private readonly Amazon.SQS.AmazonSQSClient _sqs = AwsClientFactory.CreateSqs(app.Aws, app.Credentials);
    private readonly Amazon.DynamoDBv2.AmazonDynamoDBClient _dynamoDb = AwsClientFactory.CreateDynamoDb(app.Aws, app.Credentials);

    public PipelineTopology Topology { get; } = new();

    public Amazon.S3.AmazonS3Client S3 => _s3;

    public Amazon.SQS.AmazonSQSClient Sqs => _sqs;

    public DynamoKpiStore Kpis => new(_dynamoDb, Topology, TimeProvider.System);

    public Pipeline.Storage.Runs.PipelineRunStore Runs(TimeProvider clock) => new(_dynamoDb, Topology, clock);

    public IEventBus Bus => SqsPublisher.Create(_sqs, app.CreateSnsClient(), "pipeline-tests");

    /// <summary>Uploads <paramref name="folder"/> as batch <paramref name="name"/> and publishes <see cref="BatchSubmitted"/>.</summary>
    public async Task<UploadedBatch> SubmitAsync(string folder, string name)
    {
        var uploaded = await new BatchUploader(_s3, new S3BatchStore(_s3)).UploadAsync(Topology.Bucket.Name, folder, name, null, CancellationToken.None);
        await Bus.PublishAsync(new BatchSubmitted(name, uploaded.Bucket, uploaded.ManifestKey, uploaded.ManifestETag, DateTimeOffset.UtcNow, "tests"));
        return uploaded;
    }

    /// <summary>The next alert about <paramref name="batchId"/> on the alerts inbox queue (alerts about other batches are dropped).</summary>
    public async Task<Alert> NextAlertAsync(string batchId)
    {
        var inbox = (await _sqs.GetQueueUrlAsync(Topology.AlertsInboxQueue.Name)).QueueUrl;
        using var timeout = new CancellationTokenSource(AlertTimeout);
        while (true)
        {
            var received = await _sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = inbox, WaitTimeSeconds = 5, MaxNumberOfMessages = 10 }, timeout.Token);
            foreach (var message in received.Messages ?? [])
            {
                await _sqs.DeleteMessageAsync(inbox, message.ReceiptHandle);
                var alert = Alert.FromJson(message.Body);
                if (alert.BatchId == batchId)
                {
                    return alert;
                }
            }
        }
    }

    /// <summary>A generated batch in a temporary folder, shaped like the seed data, starting on <paramref name="firstDay"/>.</summary>
    public static string Generate(long orders, DateOnly firstDay, ulong seed, int days = 10)
    {
        var folder = Directory.CreateTempSubdirectory("pipeline-e2e-").FullName;
        SyntheticBatchGenerator.Generate(folder, new GeneratorOptions(orders, Parts: 3, Seed: seed, Days: days, Products: 500) { FirstDay = firstDay });
        return folder;
    }

    public async Task<IReadOnlyList<string>> KeysUnderAsync(string prefix)
    {
        var response = await _s3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = Topology.Bucket.Name, Prefix = prefix });
        return (response.S3Objects ?? []).Select(o => o.Key).ToList();
    }

    public void Dispose()
    {
        _s3.Dispose();
        _sqs.Dispose();
        _dynamoDb.Dispose();
    }
}
