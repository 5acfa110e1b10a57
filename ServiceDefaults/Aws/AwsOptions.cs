namespace ServiceDefaults.Aws;

/// <summary>
/// Where the AWS services are: the <c>Aws</c> configuration section. Credentials are never configured here:
/// they come from the SDK's default chain (environment, profile, ECS task role).
/// </summary>
public sealed class AwsOptions
{
    public const string SectionName = "Aws";

    /// <summary>The region every client signs for; <c>AWS_REGION</c> and then <c>us-east-1</c> when not set.</summary>
    public string? Region { get; set; }

    /// <summary>An endpoint for every service (LocalStack, or the S3/SQS/SNS emulator); null for real AWS.</summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>Per-service endpoints that win over <see cref="ServiceUrl"/>, keyed <c>S3</c>, <c>SQS</c>, <c>SNS</c>, <c>DynamoDB</c>.</summary>
    public Dictionary<string, Uri> ServiceUrls { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The AWS account of the pipeline's resources, when known (the ECS deployment sets it): SNS topics are then found by ARN.</summary>
    public string? AccountId { get; set; }

    public string ResolvedRegion =>
        Region is { Length: > 0 } region ? region
        : Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } fromEnvironment ? fromEnvironment
        : "us-east-1";

    public Uri? EndpointFor(string service) => ServiceUrls.TryGetValue(service, out var url) ? url : ServiceUrl;
}
