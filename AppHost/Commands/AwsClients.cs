using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using AppHost.Aws;
using Aws.Sns;
using Emulators;
using EventBus;
using EventBus.AwsSqs;
using ServiceDefaults.Aws;

namespace AppHost.Commands;

/// <summary>The AWS clients a command needs, pointed where this run's AWS is (the emulators' endpoints as allocated now).</summary>
internal sealed class AwsClients : IDisposable
{
    private readonly AwsOptions _options;
    private readonly AWSCredentials _credentials;

    private AwsClients(AwsOptions options, AWSCredentials credentials)
    {
        _options = options;
        _credentials = credentials;
        S3 = AwsClientFactory.CreateS3(options, credentials);
        Sqs = AwsClientFactory.CreateSqs(options, credentials);
    }

    public Amazon.S3.AmazonS3Client S3 { get; }

    public Amazon.SQS.AmazonSQSClient Sqs { get; }

    public IEventBus Bus(string source) => SqsPublisher.Create(Sqs, SnsClient.Create(AwsClientFactory.SnsOptions(_options, _credentials)), source);

    public static async Task<AwsClients> ConnectAsync(AwsEnvironment aws, CancellationToken cancellationToken)
    {
        var options = new AwsOptions { Region = aws.Region };
        if (aws.ServiceUrl is { } serviceUrl)
        {
            options.ServiceUrl = new Uri((await serviceUrl.GetValueAsync(cancellationToken))!);
        }
        AWSCredentials credentials = options.ServiceUrl is null
            ? DefaultAWSCredentialsIdentityResolver.GetCredentials()
            : new BasicAWSCredentials(EmulatorInstallation.AccessKeyId, EmulatorInstallation.SecretAccessKey);
        return new AwsClients(options, credentials);
    }

    public void Dispose()
    {
        S3.Dispose();
        Sqs.Dispose();
    }
}
