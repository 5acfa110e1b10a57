using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Emulators;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Topology;
using Pipeline.Topology.Provisioning;
using ServiceDefaults.Aws;

namespace Pipeline.Storage.Benchmarks;

/// <summary>dynalite and fauxqs on ports of their own, with the pipeline's tables (the whole topology) provisioned.</summary>
internal sealed class StorageEmulators : IAsyncDisposable
{
    private readonly LocalEmulator _dynamoDb;
    private readonly LocalEmulator _aws;
    private readonly AwsOptions _options;
    private readonly AWSCredentials _credentials = new BasicAWSCredentials(EmulatorInstallation.AccessKeyId, EmulatorInstallation.SecretAccessKey);

    private StorageEmulators(LocalEmulator dynamoDb, LocalEmulator aws)
    {
        _dynamoDb = dynamoDb;
        _aws = aws;
        _options = new AwsOptions
        {
            Region = EmulatorInstallation.Region,
            ServiceUrl = aws.ServiceUrl,
            ServiceUrls = { ["DynamoDB"] = dynamoDb.ServiceUrl },
        };
    }

    public PipelineTopology Topology { get; } = new();

    /// <summary>The S3, SQS and SNS emulator's address (for the <c>pipeline</c> command's <c>--endpoint</c>).</summary>
    public string AwsUrl => _aws.ServiceUrl.ToString();

    public string DynamoDbUrl => _dynamoDb.ServiceUrl.ToString();

    public static async Task<StorageEmulators> StartAsync()
    {
        var emulators = new StorageEmulators(
            await LocalEmulator.StartAsync(EmulatedService.DynamoDb), await LocalEmulator.StartAsync(EmulatedService.Aws));
        using var s3 = AwsClientFactory.CreateS3(emulators._options, emulators._credentials);
        using var sqs = AwsClientFactory.CreateSqs(emulators._options, emulators._credentials);
        using var dynamoDb = emulators.CreateDynamoDb();
        await new TopologyProvisioner(s3, sqs, dynamoDb, Aws.Sns.SnsClient.Create(AwsClientFactory.SnsOptions(emulators._options, emulators._credentials)),
            NullLogger<TopologyProvisioner>.Instance).ApplyAsync(emulators.Topology, CancellationToken.None);
        return emulators;
    }

    /// <summary>A DynamoDB client of the emulator; <paramref name="configure"/> may change its configuration (its HTTP stack, say).</summary>
    public AmazonDynamoDBClient CreateDynamoDb(Action<AmazonDynamoDBConfig>? configure = null)
    {
        var client = AwsClientFactory.CreateDynamoDb(_options, _credentials);
        configure?.Invoke((AmazonDynamoDBConfig)client.Config);
        return client;
    }

    public Amazon.S3.IAmazonS3 CreateS3() => AwsClientFactory.CreateS3(_options, _credentials);

    public async ValueTask DisposeAsync()
    {
        await _aws.DisposeAsync();
        await _dynamoDb.DisposeAsync();
    }
}
