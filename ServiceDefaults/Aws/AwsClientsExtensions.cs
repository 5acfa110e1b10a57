using Amazon;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.S3;
using Amazon.SQS;
using Aws.Sns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ServiceDefaults.Aws;

/// <summary>The one place that registers the AWS clients (S3, SQS, DynamoDB and our SNS client) from the <c>Aws</c> section.</summary>
public static class AwsClientsExtensions
{
    public static TBuilder AddAwsClients<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.Configure<AwsOptions>(builder.Configuration.GetSection(AwsOptions.SectionName));
        services.AddSingleton(_ => DefaultAWSCredentialsIdentityResolver.GetCredentials());

        services.AddSingleton<IAmazonS3>(sp => AwsClientFactory.CreateS3(Options(sp), sp.GetRequiredService<AWSCredentials>()));
        services.AddSingleton<IAmazonSQS>(sp => AwsClientFactory.CreateSqs(Options(sp), sp.GetRequiredService<AWSCredentials>()));
        services.AddSingleton<IAmazonDynamoDB>(sp => AwsClientFactory.CreateDynamoDb(Options(sp), sp.GetRequiredService<AWSCredentials>()));

        services.AddSingleton(sp => AwsClientFactory.SnsOptions(Options(sp), sp.GetRequiredService<AWSCredentials>()));
        // The factory wraps the standard resilience handler around the signing handler, so each retry is signed afresh.
        services.AddHttpClient<SnsClient>()
            .ConfigurePrimaryHttpMessageHandler(sp => SnsClient.CreateSigningHandler(sp.GetRequiredService<SnsClientOptions>()));
        return builder;
    }

    private static AwsOptions Options(IServiceProvider sp) => sp.GetRequiredService<IOptions<AwsOptions>>().Value;
}

/// <summary>Builds AWS clients from <see cref="AwsOptions"/>; also used by tools and tests that have no host.</summary>
public static class AwsClientFactory
{
    // Every client made here has its calls traced (as the OpenTelemetry AWS SDK conventions name them).
    static AwsClientFactory() => AwsTracing.Enable();

    public static AmazonS3Client CreateS3(AwsOptions options, AWSCredentials credentials)
    {
        var config = new AmazonS3Config();
        Apply(config, options, "S3");
        // Emulators answer on one host name; virtual-host style (bucket.127.0.0.1) cannot resolve.
        config.ForcePathStyle = options.EndpointFor("S3") is not null;
        return new AmazonS3Client(credentials, config);
    }

    public static AmazonSQSClient CreateSqs(AwsOptions options, AWSCredentials credentials)
    {
        var config = new AmazonSQSConfig();
        Apply(config, options, "SQS");
        return new AmazonSQSClient(credentials, config);
    }

    public static AmazonDynamoDBClient CreateDynamoDb(AwsOptions options, AWSCredentials credentials)
    {
        var config = new AmazonDynamoDBConfig();
        Apply(config, options, "DynamoDB");
        return new AmazonDynamoDBClient(credentials, config);
    }

    public static SnsClientOptions SnsOptions(AwsOptions options, AWSCredentials credentials) => new()
    {
        Region = options.ResolvedRegion,
        ServiceUrl = options.EndpointFor("SNS"),
        Credentials = credentials,
        AccountId = options.AccountId,
    };

    private static void Apply(ClientConfig config, AwsOptions options, string service)
    {
        if (options.EndpointFor(service) is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = options.ResolvedRegion;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.ResolvedRegion);
        }
    }
}
