using System.Text.Json.Nodes;

namespace Deploy.Cli;

/// <summary>
/// What deleting the stack leaves behind, read from the template itself (so it stays true when a removal policy
/// changes): every resource CloudFormation retains on deletion, by type and name.
/// </summary>
public static class RetainedResources
{
    private static readonly string[] Retaining = ["Retain", "RetainExceptOnCreate"];

    public static IReadOnlyList<string> In(string templateFile)
    {
        var resources = JsonNode.Parse(File.ReadAllText(templateFile))?["Resources"]?.AsObject() ?? [];
        return resources
            .Where(r => Retaining.Contains((string?)r.Value?["DeletionPolicy"]))
            .Select(r => $"{(string?)r.Value!["Type"]} {Name(r.Key, r.Value!["Properties"]?.AsObject())}")
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The resource's physical name when the template fixes it (BucketName, TableName, QueueName ...), else its logical id.</summary>
    private static string Name(string logicalId, JsonObject? properties) =>
        properties?.FirstOrDefault(p => p.Key.EndsWith("Name", StringComparison.Ordinal) && p.Value is JsonValue).Value is JsonValue name
            ? (string?)name ?? logicalId
            : logicalId;
}
