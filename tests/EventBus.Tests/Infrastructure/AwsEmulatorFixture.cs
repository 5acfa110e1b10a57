using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.SQS;
using Aws.Sns;
using Emulators;

namespace EventBus.Tests.Infrastructure;

/// <summary>Starts fauxqs (S3, SQS, SNS) once per test class, on a free loopback port; real SDK clients talk to it.</summary>
public class AwsEmulatorFixture : IAsyncLifetime
{
    public LocalEmulator Aws { get; private set; } = null!;

    public static BasicAWSCredentials Credentials { get; } = new(EmulatorInstallation.AccessKeyId, EmulatorInstallation.SecretAccessKey);

    /// <summary>An SQS client on the emulator; on <paramref name="faults"/>, with its timeout and faults.</summary>
    public AmazonSQSClient CreateSqsClient(NetworkFaults? faults = null) => new(Credentials, Configure(new AmazonSQSConfig
    {
        ServiceURL = Aws.ServiceUrl.ToString(),
        AuthenticationRegion = EmulatorInstallation.Region,
    }, faults));

    public SnsClient CreateSnsClient() => SnsClient.Create(new SnsClientOptions
    {
        Region = EmulatorInstallation.Region,
        ServiceUrl = Aws.ServiceUrl,
        Credentials = Credentials,
    });

    public AmazonS3Client CreateS3Client() => new(Credentials, new AmazonS3Config
    {
        ServiceURL = Aws.ServiceUrl.ToString(),
        AuthenticationRegion = EmulatorInstallation.Region,
        ForcePathStyle = true,
    });

    protected static TConfig Configure<TConfig>(TConfig config, NetworkFaults? faults) where TConfig : ClientConfig =>
        faults?.Configure(config) ?? config;

    public virtual async Task InitializeAsync() => Aws = await LocalEmulator.StartAsync(EmulatedService.Aws);

    public virtual async Task DisposeAsync() => await Aws.DisposeAsync();
}

/// <summary>fauxqs and dynalite (DynamoDB), for the tests that also need DynamoDB.</summary>
public sealed class AwsAndDynamoDbEmulatorFixture : AwsEmulatorFixture
{
    public LocalEmulator DynamoDb { get; private set; } = null!;

    /// <summary>A DynamoDB client on dynalite; on <paramref name="faults"/>, with its timeout and faults.</summary>
    public AmazonDynamoDBClient CreateDynamoDbClient(NetworkFaults? faults = null) => new(Credentials, Configure(new AmazonDynamoDBConfig
    {
        ServiceURL = DynamoDb.ServiceUrl.ToString(),
        AuthenticationRegion = EmulatorInstallation.Region,
    }, faults));

    public override async Task InitializeAsync()
    {
        var dynamoDb = LocalEmulator.StartAsync(EmulatedService.DynamoDb);
        await base.InitializeAsync();
        DynamoDb = await dynamoDb;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await DynamoDb.DisposeAsync();
    }
}
