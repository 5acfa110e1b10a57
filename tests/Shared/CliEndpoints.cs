using ServiceDefaults.Aws;

namespace Pipeline.Testing;

/// <summary>
/// The <c>pipeline</c> command's arguments that point it at the emulators (it has no configuration file). One file, linked
/// into each project that runs the command against emulators of its own.
/// </summary>
public static class CliEndpoints
{
    /// <summary><c>--endpoint</c> (S3, SQS, SNS) and <c>--dynamodb-endpoint</c> for <paramref name="aws"/>'s endpoints.</summary>
    public static string[] CliEndpointArguments(this AwsOptions aws) =>
        ["--endpoint", aws.ServiceUrl!.ToString(), "--dynamodb-endpoint", aws.ServiceUrls["DynamoDB"].ToString()];
}
