using System.CommandLine;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;
using Amazon.S3;
using Amazon.SQS;
using Aws.Sns;
using Emulators;
using EventBus;
using EventBus.AwsSqs;
using Pipeline.Topology;
using ServiceDefaults.Aws;

namespace Pipeline.Cli.Commands;

/// <summary>
/// The AWS options every pipeline command shares, resolved like the services resolve theirs: the local emulators
/// by default, one endpoint for everything (LocalStack) with <c>--endpoint</c>, real AWS with <c>--profile</c>.
/// </summary>
internal sealed class AwsConnectionOptions
{
    public static readonly Uri LocalAwsEndpoint = new($"http://127.0.0.1:{EmulatorInstallation.AwsPort}");
    public static readonly Uri LocalDynamoDbEndpoint = new($"http://127.0.0.1:{EmulatorInstallation.DynamoDbPort}");

    private readonly Option<Uri> _endpoint = EndpointOption("--endpoint", $"One endpoint for S3, SQS, SNS and DynamoDB (LocalStack). Default without --profile: {LocalAwsEndpoint} and DynamoDB {LocalDynamoDbEndpoint}.");
    private readonly Option<Uri> _dynamoDbEndpoint = EndpointOption("--dynamodb-endpoint", "DynamoDB's endpoint, when it differs from --endpoint.");
    private readonly Option<string> _region = new("--region") { Description = "AWS region (default: the profile's, AWS_REGION, then us-east-1)." };
    private readonly Option<string> _profile = new("--profile") { Description = "AWS profile for credentials; real AWS unless an endpoint is given." };
    private readonly Option<string> _bucket = new("--bucket") { Description = $"The pipeline's bucket (default {PipelineTopology.DefaultBucketName})." };

    public void AddTo(Command command)
    {
        command.Options.Add(_endpoint);
        command.Options.Add(_dynamoDbEndpoint);
        command.Options.Add(_region);
        command.Options.Add(_profile);
        command.Options.Add(_bucket);
    }

    public AwsConnection Connect(ParseResult result)
    {
        var profiles = new CredentialProfileStoreChain();
        var profileName = result.GetValue(_profile);
        CredentialProfile? profile = null;
        if (profileName is not null && !profiles.TryGetProfile(profileName, out profile))
        {
            throw new ArgumentException($"no AWS profile named '{profileName}'");
        }

        var endpoint = result.GetValue(_endpoint);
        var dynamoDbEndpoint = result.GetValue(_dynamoDbEndpoint) ?? endpoint;
        if (profile is null && endpoint is null)
        {
            // Without a profile or an endpoint the user means the local pipeline: the AppHost's fixed emulator ports.
            endpoint = LocalAwsEndpoint;
            dynamoDbEndpoint ??= LocalDynamoDbEndpoint;
        }

        var options = new AwsOptions { Region = result.GetValue(_region) ?? profile?.Region?.SystemName, ServiceUrl = endpoint };
        if (dynamoDbEndpoint is not null)
        {
            options.ServiceUrls["DynamoDB"] = dynamoDbEndpoint;
        }

        var credentials = profile is not null ? profile.GetAWSCredentials(profiles) : DefaultCredentials(emulated: endpoint is not null);
        return new AwsConnection(options, credentials, new PipelineTopology(result.GetValue(_bucket)));
    }

    private static Option<Uri> EndpointOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = argument =>
        {
            var text = argument.Tokens.Single().Value;
            if (Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
            {
                return url;
            }
            argument.AddError($"{name} '{text}' is not an http(s) URL");
            return null;
        },
    };

    /// <summary>The SDK's default chain; emulators accept any key, so with an endpoint and no credentials the placeholders do.</summary>
    private static AWSCredentials DefaultCredentials(bool emulated)
    {
        try
        {
            return DefaultAWSCredentialsIdentityResolver.GetCredentials();
        }
        catch (AmazonClientException) when (emulated)
        {
            return new BasicAWSCredentials(EmulatorInstallation.AccessKeyId, EmulatorInstallation.SecretAccessKey);
        }
    }
}

/// <summary>The clients of one command run, made on first use.</summary>
internal sealed class AwsConnection(AwsOptions options, AWSCredentials credentials, PipelineTopology topology) : IDisposable
{
    public AwsOptions Options { get; } = options;

    private AmazonS3Client? _s3;
    private AmazonSQSClient? _sqs;
    private AmazonDynamoDBClient? _dynamoDb;
    private IEventBus? _bus;

    public PipelineTopology Topology { get; } = topology;

    public AmazonS3Client S3 => _s3 ??= AwsClientFactory.CreateS3(Options, credentials);

    public AmazonSQSClient Sqs => _sqs ??= AwsClientFactory.CreateSqs(Options, credentials);

    public AmazonDynamoDBClient DynamoDb => _dynamoDb ??= AwsClientFactory.CreateDynamoDb(Options, credentials);

    public SnsClient CreateSns() => SnsClient.Create(AwsClientFactory.SnsOptions(Options, credentials));

    /// <summary>Publishes on the pipeline's topics as the producer <c>pipeline-cli</c>.</summary>
    public IEventBus Bus => _bus ??= SqsPublisher.Create(Sqs, CreateSns(), "pipeline-cli");

    public void Dispose()
    {
        _s3?.Dispose();
        _sqs?.Dispose();
        _dynamoDb?.Dispose();
    }
}
