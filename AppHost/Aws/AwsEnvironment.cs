namespace AppHost.Aws;

/// <summary>The AWS the services talk to in this run: where its endpoints are and which resources must be up first.</summary>
public sealed class AwsEnvironment(AwsEmulatorMode mode, string region)
{
    public AwsEmulatorMode Mode { get; } = mode;

    public string Region { get; } = region;

    /// <summary>The endpoint of S3, SQS and SNS (and of DynamoDB too, with LocalStack); null for real AWS.</summary>
    public ReferenceExpression? ServiceUrl { get; init; }

    /// <summary>A separate DynamoDB endpoint (the npm emulators have one); null when <see cref="ServiceUrl"/> serves it.</summary>
    public ReferenceExpression? DynamoDbServiceUrl { get; init; }

    /// <summary>The emulator resources (LocalStack, or fauxqs and dynalite) every AWS client waits for.</summary>
    public IReadOnlyList<IResourceBuilder<IResource>> Emulators { get; init; } = [];
}
