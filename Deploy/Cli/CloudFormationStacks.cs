using Amazon.Runtime;
using Aws.Query;

namespace Deploy.Cli;

/// <summary>
/// CloudFormation's <c>DescribeStacks</c> over the Query API (<see cref="Aws.Query"/>, signed by AWSSDK.Core's SigV4
/// handler: AWSSDK.CloudFormation is not available to us), for the one thing the deploy command asks before it deploys:
/// whether the stack exists, and in which state.
/// </summary>
/// <param name="http">A client whose handler signs for CloudFormation (<see cref="QueryApi.CreateSigningHandler"/>); disposed with this.</param>
public sealed class CloudFormationStacks(HttpClient http, Uri endpoint) : IDisposable
{
    public static readonly QueryApi Api = new("CloudFormation", "cloudformation", "2010-05-15", "http://cloudformation.amazonaws.com/doc/2010-05-15/");

    /// <summary>
    /// A client for <paramref name="region"/> with its own signed HttpClient, at the endpoint the AWS SDKs would use:
    /// <c>AWS_ENDPOINT_URL_CLOUDFORMATION</c>, else <c>AWS_ENDPOINT_URL</c>, else CloudFormation's own.
    /// </summary>
    public static CloudFormationStacks Create(AWSCredentials credentials, string region) =>
        new(new HttpClient(Api.CreateSigningHandler(credentials, region)),
            Variable("AWS_ENDPOINT_URL_CLOUDFORMATION") ?? Variable("AWS_ENDPOINT_URL") ?? Api.Endpoint(region));

    /// <summary>The stack's state; <see cref="StackState.Absent"/> when no stack has the name.</summary>
    /// <exception cref="AmazonServiceException">CloudFormation refused the call (its error code, such as AccessDenied).</exception>
    public async Task<StackState> DescribeAsync(string stackName, CancellationToken cancellationToken)
    {
        var form = Api.Form("DescribeStacks").Add("StackName", stackName);
        using var response = await http.PostAsync(endpoint, form.ToContent(), cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            var result = QueryProtocol.ReadResult(Api, form.Action, response.StatusCode, body,
                e => new AmazonServiceException($"CloudFormation {form.Action} failed: {e.Code}: {e.Message}", e.Type, e.Code, e.RequestId, e.Status));
            var stack = QueryProtocol.Members(result, "Stacks").FirstOrDefault();
            return stack is null
                ? StackState.Absent
                : new StackState(QueryProtocol.Child(stack, "StackStatus"), QueryProtocol.Child(stack, "StackStatusReason"));
        }
        catch (AmazonServiceException e) when (e.ErrorCode == "ValidationError" && e.Message.Contains("does not exist", StringComparison.Ordinal))
        {
            // How CloudFormation says there is no such stack (HTTP 400, "Stack with id NAME does not exist").
            return StackState.Absent;
        }
    }

    public void Dispose() => http.Dispose();

    private static Uri? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? new Uri(value) : null;
}
