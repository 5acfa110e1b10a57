using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.SNS;

namespace Deploy;

/// <summary>
/// Topic policies. CDK 2.160's <c>EnforceSSL</c> on a topic writes no policy at all (fixed in CDK versions that need a
/// newer Constructs than the one served here), so the stack writes the statement itself.
/// </summary>
public static class TopicPolicies
{
    public const string TlsOnlySid = "DenyPublishWithoutTls";

    /// <summary>
    /// Refuses any publish that does not come over TLS, whoever sends it. The topic's policy then holds only what this
    /// stack writes: publishing and subscribing are IAM's (the task roles' grants), which suffice within the account.
    /// </summary>
    public static void RequireTls(Topic topic) => topic.AddToResourcePolicy(new PolicyStatement(new PolicyStatementProps
    {
        Sid = TlsOnlySid,
        Effect = Effect.DENY,
        Principals = [new AnyPrincipal()],
        Actions = ["sns:Publish"],
        Resources = [topic.TopicArn],
        Conditions = new Dictionary<string, object> { ["Bool"] = new Dictionary<string, object> { ["aws:SecureTransport"] = "false" } },
    }));
}
