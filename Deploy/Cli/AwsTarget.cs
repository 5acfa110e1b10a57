using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;

namespace Deploy.Cli;

/// <summary>
/// The account and region a deployment goes to, found the way the AWS CLI and the CDK CLI find them: <c>--profile</c>
/// (else <c>AWS_PROFILE</c>, else the default chain: environment, SSO, container or instance role) and <c>--region</c>
/// (else <c>AWS_REGION</c>, <c>AWS_DEFAULT_REGION</c>, the profile's region). The region found is handed to the CDK
/// CLI as <c>AWS_REGION</c>, so it deploys where the checks looked.
/// </summary>
public sealed class AwsTarget
{
    private readonly CredentialProfileStoreChain _profiles = new();

    public AwsTarget(string? profile, string? region)
    {
        Profile = profile;
        Region = region ?? Variable("AWS_REGION") ?? Variable("AWS_DEFAULT_REGION")
            ?? (_profiles.TryGetProfile(profile ?? Variable("AWS_PROFILE") ?? "default", out var named) ? named.Region?.SystemName : null);
    }

    public string? Profile { get; }

    /// <summary>The region, or null when nothing names one.</summary>
    public string? Region { get; }

    /// <summary>The CDK CLI's arguments that name the same credentials.</summary>
    public IReadOnlyList<string> CdkArguments => Profile is null ? [] : ["--profile", Profile];

    /// <summary>The credentials to check; throws <see cref="AmazonClientException"/> when none are found.</summary>
    public AWSCredentials Credentials()
    {
        if (Profile is null)
        {
            return DefaultAWSCredentialsIdentityResolver.GetCredentials();
        }
        return _profiles.TryGetProfile(Profile, out var named)
            ? named.GetAWSCredentials(_profiles)
            : throw new AmazonClientException($"no AWS profile named '{Profile}' in ~/.aws/config or ~/.aws/credentials");
    }

    public RegionEndpoint Endpoint => RegionEndpoint.GetBySystemName(Region ?? throw new InvalidOperationException("no region"));

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
