using System.Text.Json.Nodes;

namespace Deploy.Tests;

/// <summary>Reads IAM statements out of the template, with each resource written as a person would name it.</summary>
public static class TemplateReader
{
    /// <summary>"action resource" for every statement of the policy (inline or managed) named <paramref name="policyName"/>, sorted.</summary>
    public static IReadOnlyList<string> Grants(StackTemplate stack, string policyName) =>
        Policies(stack).Single(p => PolicyName(p.Resource) == policyName).Resource
            .Pipe(policy => Statements(stack, policy))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>Every (action, resource) of every IAM policy in the template, inline or managed, with the policy's logical id.</summary>
    public static IEnumerable<(string Policy, string Action, string Resource)> AllGrants(StackTemplate stack) =>
        Policies(stack).SelectMany(p => Statements(stack, p.Resource).Select(g =>
        {
            var space = g.IndexOf(' ', StringComparison.Ordinal);
            return (p.Id, g[..space], g[(space + 1)..]);
        }));

    /// <summary>The statements of the policy named <paramref name="policyName"/> as the template writes them (with their conditions).</summary>
    public static JsonArray Statements(StackTemplate stack, string policyName) =>
        Policies(stack).Single(p => PolicyName(p.Resource) == policyName).Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray();

    private static IEnumerable<(string Id, JsonObject Resource)> Policies(StackTemplate stack) =>
        stack.Resources("AWS::IAM::Policy").Concat(stack.Resources("AWS::IAM::ManagedPolicy"));

    private static string? PolicyName(JsonObject policy) =>
        (string?)(policy["Properties"]!["PolicyName"] ?? policy["Properties"]!["ManagedPolicyName"]);

    private static IEnumerable<string> Statements(StackTemplate stack, JsonObject policy) =>
        from statement in policy["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray()
        from action in OneOrMany(statement!["Action"]!)
        from resource in OneOrMany(statement["Resource"]!)
        select $"{(string)action!} {Render(stack, resource!)}";

    /// <summary>A resource as "kind/name": the ARN of the topology's queue pipeline-validate reads <c>queue/pipeline-validate</c>.</summary>
    public static string Render(StackTemplate stack, JsonNode node) => node switch
    {
        JsonValue value => (string)value!,
        JsonObject o when o["Fn::GetAtt"] is JsonArray getAtt => NameOf(stack, (string)getAtt[0]!),
        JsonObject o when o["Ref"] is JsonValue reference => stack.Json["Resources"]![(string)reference!] is null
            ? $"{{{(string)reference!}}}"
            : NameOf(stack, (string)reference!),
        JsonObject o when o["Fn::Join"] is JsonArray join => string.Join((string)join[0]!, join[1]!.AsArray().Select(part => Render(stack, part!))),
        _ => node.ToJsonString(),
    };

    private static string NameOf(StackTemplate stack, string logicalId)
    {
        var properties = stack.Resource(logicalId)["Properties"]?.AsObject();
        foreach (var (property, kind) in new[]
        {
            ("QueueName", "queue"), ("TableName", "table"), ("TopicName", "topic"),
            ("BucketName", "bucket"), ("LogGroupName", "log-group"), ("ServiceName", "service"),
        })
        {
            if (properties?[property] is { } name)
            {
                return $"{kind}/{Render(stack, name)}"; // a name may be built in the template (the default bucket's, with the account and region)
            }
        }
        // A resource CloudFormation names (such as the Athena results bucket): its kind and logical id.
        return (string?)stack.Resource(logicalId)["Type"] == "AWS::S3::Bucket" ? $"bucket/{logicalId}" : logicalId;
    }

    public static IEnumerable<JsonNode> OneOrMany(JsonNode node) => node is JsonArray array ? array.Select(n => n!) : [node];

    private static TOut Pipe<TIn, TOut>(this TIn value, Func<TIn, TOut> next) => next(value);
}
