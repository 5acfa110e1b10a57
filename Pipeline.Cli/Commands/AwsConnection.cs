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

    private readonly Option<Uri> _endpoint = EndpointOption(
        "--endpoint",
        "One endpoint for S3, SQS, SNS and DynamoDB (LocalStack). " +
        $"Default without --profile: {LocalAwsEndpoint} and DynamoDB {LocalDynamoDbEndpoint}.");
    private readonly Option<Uri> _dynamoDbEndpoint = EndpointOption("--dynamodb-endpoint", "DynamoDB's endpoint, when it differs from --endpoint.");
    private readonly Option<string> _region = new("--region") { Description = "AWS region (default: the profile's, AWS_REGION, then us-east-1)." };
    private readonly Option<string> _profile = new("--profile") { Description = "AWS profile for credentials; real AWS unless an endpoint is given." };
    private readonly Option<bool> _aws = new("--aws")
    {
        Description = "Real AWS with the SDK's default credentials (an ECS task's role, environment variables), without a profile.",
    };
    private readonly Option<string> _bucket = new("--bucket")
    {
        Description = $"The pipeline's bucket (default: {PipelineTopology.DefaultBucketName} locally; with --profile, the deployed "
            + "environment's, <environment>-data-<account>-<region>).",
    };
    private readonly Option<string> _environment = new("--environment")
    {
        Description = $"The environment, the prefix of every name: the stack's name in AWS (default {PipelineTopology.DefaultEnvironment}).",
        CustomParser = argument =>
        {
            var name = argument.Tokens.Single().Value;
            try
            {
                return new PipelineTopology(environment: name).Environment;
            }
            catch (ArgumentException e)
            {
                argument.AddError($"--environment: {e.Message}");
                return null;
            }
        },
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_endpoint);
        command.Options.Add(_dynamoDbEndpoint);
        command.Options.Add(_region);
        command.Options.Add(_profile);
        command.Options.Add(_aws);
        command.Options.Add(_bucket);
        command.Options.Add(_environment);
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
        if (profile is null && endpoint is null && !result.GetValue(_aws))
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
        return new AwsConnection(options, credentials, new PipelineTopology(result.GetValue(_bucket), result.GetValue(_environment)));
    }

    /// <summary>
    /// <see cref="Connect"/>, then, in AWS without <c>--bucket</c>, the bucket the environment's stack made by default: named
    /// after its account, which its own validate queue's address tells (and whose absence says the environment is not there).
    /// </summary>
    public async Task<AwsConnection> ConnectAsync(ParseResult result, CancellationToken cancellationToken)
    {
        var connection = Connect(result);
        if (result.GetValue(_bucket) is not null || connection.Options.EndpointFor("SQS") is not null)
        {
            return connection;
        }
        using (connection)
        {
            var environment = connection.Topology.Environment;
            string url;
            try
            {
                url = (await connection.Sqs.GetQueueUrlAsync(connection.Topology.ValidateQueue.Name, cancellationToken)).QueueUrl;
            }
            catch (Amazon.SQS.Model.QueueDoesNotExistException)
            {
                throw new ArgumentException(
                    $"no environment '{environment}' in {connection.Options.ResolvedRegion}: " +
                    $"its queue {connection.Topology.ValidateQueue.Name} does not exist " +
                    "(--environment is the stack's name; --region its region)");
            }
            var bucket = PipelineTopology.AccountBucketName(environment, AccountOf(url), connection.Options.ResolvedRegion);
            return new AwsConnection(connection.Options, connection.Credentials, new PipelineTopology(bucket, environment));
        }
    }

    /// <summary>The account in a queue's URL (<c>https://sqs.&lt;region&gt;.amazonaws.com/&lt;account&gt;/&lt;queue&gt;</c>).</summary>
    internal static string AccountOf(string queueUrl) =>
        new Uri(queueUrl).Segments is [_, var account, _] && account.TrimEnd('/') is { Length: 12 } digits && digits.All(char.IsAsciiDigit)
            ? digits
            : throw new ArgumentException($"'{queueUrl}' is not an SQS queue URL with an account");

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

    public AWSCredentials Credentials { get; } = credentials;

    private AmazonS3Client? _s3;
    private AmazonSQSClient? _sqs;
    private AmazonDynamoDBClient? _dynamoDb;
    private IEventBus? _bus;

    public PipelineTopology Topology { get; } = topology;

    public AmazonS3Client S3 => _s3 ??= AwsClientFactory.CreateS3(Options, Credentials);

    public AmazonSQSClient Sqs => _sqs ??= AwsClientFactory.CreateSqs(Options, Credentials);

    public AmazonDynamoDBClient DynamoDb => _dynamoDb ??= AwsClientFactory.CreateDynamoDb(Options, Credentials);

    public SnsClient CreateSns() => SnsClient.Create(AwsClientFactory.SnsOptions(Options, Credentials));

    /// <summary>A publish-only bus on the environment's topics, its messages naming <c>pipeline-cli</c> as their source.</summary>
    public IEventBus Bus => _bus ??= SqsPublisher.Create(Sqs, CreateSns(), "pipeline-cli", topicScope: Topology.TopicScope);

    public void Dispose()
    {
        _s3?.Dispose();
        _sqs?.Dispose();
        _dynamoDb?.Dispose();
    }
}
