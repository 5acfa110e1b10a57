using System.Text.Json.Nodes;

namespace Deploy.Cli;

/// <summary>
/// What deleting the stack leaves behind, read from the template itself (so it stays true when a removal policy
/// changes): every resource CloudFormation retains on deletion, by type and name.
/// </summary>
public static class RetainedResources
{
    private static readonly string[] Retaining = ["Retain", "RetainExceptOnCreate"];

    /// <param name="account">The account the stack is in, when known: names made from it (the default bucket's) are then whole.</param>
    /// <param name="region">Its region, likewise.</param>
    public static IReadOnlyList<string> In(string templateFile, string? account, string? region)
    {
        var resources = JsonNode.Parse(File.ReadAllText(templateFile))?["Resources"]?.AsObject() ?? [];
        return resources
            .Where(r => Retaining.Contains((string?)r.Value?["DeletionPolicy"]))
            .Select(r => $"{(string?)r.Value!["Type"]} {Name(r.Key, r.Value!["Properties"]?.AsObject(), account, region)}")
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The resource's physical name when the template fixes it (BucketName, TableName, QueueName ...), else its logical id.</summary>
    private static string Name(string logicalId, JsonObject? properties, string? account, string? region) =>
        properties?.FirstOrDefault(p => p.Key.EndsWith("Name", StringComparison.Ordinal)).Value is { } name
            ? Render(name, account, region) ?? logicalId
            : logicalId;

    /// <summary>A name as CloudFormation will make it: text, the account and region references, and joins of them.</summary>
    private static string? Render(JsonNode node, string? account, string? region) => node switch
    {
        JsonValue text => (string?)text,
        JsonObject { Count: 1 } reference when reference["Ref"] is JsonValue pseudo => (string?)pseudo switch
        {
            "AWS::AccountId" => account ?? "<account>",
            "AWS::Region" => region ?? "<region>",
            _ => null,
        },
        JsonObject { Count: 1 } join when join["Fn::Join"] is JsonArray { Count: 2 } args && args[0] is JsonValue separator && args[1] is JsonArray parts =>
            Join((string?)separator, parts.Select(p => p is null ? null : Render(p, account, region)).ToList()),
        _ => null,
    };

    private static string? Join(string? separator, List<string?> parts) => parts.Contains(null) ? null : string.Join(separator, parts);
}
