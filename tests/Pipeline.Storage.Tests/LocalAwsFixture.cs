using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Emulators;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Topology;
using Pipeline.Topology.Provisioning;
using ServiceDefaults.Aws;

namespace Pipeline.Storage.Tests;

/// <summary>Both local emulators on free ports, with the pipeline topology applied, shared by a test class.</summary>
public sealed class LocalAwsFixture : IAsyncLifetime
{
    private LocalEmulator? _aws;
    private LocalEmulator? _dynamoDb;

    public PipelineTopology Topology { get; } = new();

    public AwsOptions Aws { get; private set; } = null!;

    public AWSCredentials Credentials { get; } = new BasicAWSCredentials(EmulatorInstallation.AccessKeyId, EmulatorInstallation.SecretAccessKey);

    public AmazonDynamoDBClient CreateDynamoDb(Action<AmazonDynamoDBConfig>? configure = null)
    {
        var client = AwsClientFactory.CreateDynamoDb(Aws, Credentials);
        configure?.Invoke((AmazonDynamoDBConfig)client.Config);
        return client;
    }

    public Amazon.S3.AmazonS3Client CreateS3() => AwsClientFactory.CreateS3(Aws, Credentials);

    public async Task InitializeAsync()
    {
        var starting = (Aws: LocalEmulator.StartAsync(EmulatedService.Aws), DynamoDb: LocalEmulator.StartAsync(EmulatedService.DynamoDb));
        _aws = await starting.Aws;
        _dynamoDb = await starting.DynamoDb;
        Aws = new AwsOptions
        {
            Region = EmulatorInstallation.Region,
            ServiceUrl = _aws.ServiceUrl,
            ServiceUrls = { ["DynamoDB"] = _dynamoDb.ServiceUrl },
        };

        using var s3 = AwsClientFactory.CreateS3(Aws, Credentials);
        using var sqs = AwsClientFactory.CreateSqs(Aws, Credentials);
        using var dynamoDb = AwsClientFactory.CreateDynamoDb(Aws, Credentials);
        var sns = global::Aws.Sns.SnsClient.Create(AwsClientFactory.SnsOptions(Aws, Credentials));
        await new TopologyProvisioner(s3, sqs, dynamoDb, sns, NullLogger<TopologyProvisioner>.Instance).ApplyAsync(Topology, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_aws is not null) await _aws.DisposeAsync();
        if (_dynamoDb is not null) await _dynamoDb.DisposeAsync();
    }
}
