using Emulators;
using Microsoft.Extensions.Configuration;

namespace AppHost.Aws;

public static class AwsEnvironmentExtensions
{
    public const string LocalStackImage = "localstack/localstack";

    /// <summary>The last LocalStack community image that starts without an auth token.</summary>
    public const string LocalStackTag = "4.14.0";

    /// <summary>
    /// Declares where AWS is for this run, from <c>Aws:Emulator</c> (auto, localstack, emulators, none) and <c>Aws:Region</c>.
    /// Publishing (<c>aspire publish</c>, <c>deploy</c>, <c>destroy</c>) starts nothing locally: no local AWS, and no container
    /// engine asked for (or made to pull) LocalStack's image.
    /// </summary>
    public static AwsEnvironment AddAwsEnvironment(this IDistributedApplicationBuilder builder)
    {
        var mode = builder.ExecutionContext.IsPublishMode ? AwsEmulatorMode.None : ReadMode(builder.Configuration);
        if (mode == AwsEmulatorMode.Auto)
        {
            mode = ChooseAutomatically(builder.Configuration[ContainerRuntimeProbe.RuntimeKey]);
        }

        return mode switch
        {
            AwsEmulatorMode.LocalStack => builder.AddLocalStack(),
            AwsEmulatorMode.Emulators => builder.AddNpmEmulators(),
            _ => new AwsEnvironment(AwsEmulatorMode.None, builder.Configuration["Aws:Region"] ?? "us-east-1"),
        };
    }

    /// <summary>LocalStack when a container engine answers and has (or can pull) its image; otherwise the npm emulators, saying why.</summary>
    private static AwsEmulatorMode ChooseAutomatically(string? runtime)
    {
        if (!ContainerRuntimeProbe.IsAvailable(runtime))
        {
            return AwsEmulatorMode.Emulators;
        }
        var image = $"{LocalStackImage}:{LocalStackTag}";
        if (ContainerRuntimeProbe.CanRun(runtime, image))
        {
            return AwsEmulatorMode.LocalStack;
        }
        Console.WriteLine($"Aws:Emulator=auto: a container engine answers, but the image {image} is neither present nor pullable; using the npm emulators.");
        return AwsEmulatorMode.Emulators;
    }

    /// <summary>Hands the AWS location to a service as environment variables, and makes it wait for the emulators.</summary>
    public static IResourceBuilder<T> WithAws<T>(this IResourceBuilder<T> resource, AwsEnvironment aws)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
    {
        resource.WithEnvironment("Aws__Region", aws.Region);
        if (aws.ServiceUrl is { } serviceUrl)
        {
            resource.WithEnvironment("Aws__ServiceUrl", serviceUrl)
                .WithEnvironment("AWS_ACCESS_KEY_ID", EmulatorInstallation.AccessKeyId)
                .WithEnvironment("AWS_SECRET_ACCESS_KEY", EmulatorInstallation.SecretAccessKey);
        }
        if (aws.DynamoDbServiceUrl is { } dynamoDbUrl)
        {
            resource.WithEnvironment("Aws__ServiceUrls__DynamoDB", dynamoDbUrl);
        }
        foreach (var emulator in aws.Emulators)
        {
            resource.WaitFor(emulator).WithReferenceRelationship(emulator.Resource);
        }
        return resource;
    }

    private static AwsEnvironment AddLocalStack(this IDistributedApplicationBuilder builder)
    {
        var localStack = builder.AddContainer("localstack", LocalStackImage, LocalStackTag)
            .WithHttpEndpoint(port: EmulatorInstallation.AwsPort, targetPort: 4566, name: "http")
            .WithEnvironment("SERVICES", "s3,sqs,sns,dynamodb")
            .WithHttpHealthCheck("/_localstack/health");

        return new AwsEnvironment(AwsEmulatorMode.LocalStack, EmulatorInstallation.Region)
        {
            ServiceUrl = LoopbackUrl(localStack.GetEndpoint("http")),
            Emulators = [localStack.AsResource()],
        };
    }

    private static AwsEnvironment AddNpmEmulators(this IDistributedApplicationBuilder builder)
    {
        var s3SqsSns = builder.AddNodeEmulator("aws-emulator", EmulatedService.Aws, EmulatorInstallation.AwsPort)
            .WithHttpHealthCheck("/health");
        var dynamoDb = builder.AddNodeEmulator("dynamodb-emulator", EmulatedService.DynamoDb, EmulatorInstallation.DynamoDbPort)
            .WithHttpHealthCheck("/");

        return new AwsEnvironment(AwsEmulatorMode.Emulators, EmulatorInstallation.Region)
        {
            ServiceUrl = LoopbackUrl(s3SqsSns.GetEndpoint("http")),
            DynamoDbServiceUrl = LoopbackUrl(dynamoDb.GetEndpoint("http")),
            Emulators = [s3SqsSns.AsResource(), dynamoDb.AsResource()],
        };
    }

    private static IResourceBuilder<ExecutableResource> AddNodeEmulator(
        this IDistributedApplicationBuilder builder, string name, EmulatedService service, int port)
    {
        EmulatorInstallation.EnsureInstalled();
        // The emulator listens on the PORT Aspire gives it; Aspire's proxy listens on the fixed, documented port
        // (a random one under tests).
        return builder.AddExecutable(name, EmulatorInstallation.NodeExecutable, EmulatorInstallation.Directory,
                [.. EmulatorInstallation.Arguments(service)])
            .WithHttpEndpoint(port: port, env: "PORT", name: "http");
    }

    /// <summary>127.0.0.1 rather than localhost: the SDKs need a host name that needs no resolving and no virtual-host style.</summary>
    private static ReferenceExpression LoopbackUrl(EndpointReference endpoint) =>
        ReferenceExpression.Create($"http://127.0.0.1:{endpoint.Property(EndpointProperty.Port)}");

    private static IResourceBuilder<IResource> AsResource<T>(this IResourceBuilder<T> builder) where T : IResource =>
        (IResourceBuilder<IResource>)builder;

    private static AwsEmulatorMode ReadMode(IConfiguration configuration)
    {
        var value = configuration["Aws:Emulator"];
        if (string.IsNullOrWhiteSpace(value))
        {
            return AwsEmulatorMode.Auto;
        }
        return Enum.TryParse<AwsEmulatorMode>(value, ignoreCase: true, out var mode) && Enum.IsDefined(mode)
            ? mode
            : throw new InvalidOperationException(
                $"Aws:Emulator is '{value}'; expected one of: auto, localstack, emulators, none.");
    }
}
