using System.Text.Json.Nodes;

namespace Deploy.Cli;

/// <summary>The deployed stack's outputs (the CDK CLI's <c>--outputs-file</c>), told as what to do next.</summary>
public static class StackOutputs
{
    public static IReadOnlyDictionary<string, string> Read(string outputsFile, string stackName) =>
        JsonNode.Parse(File.ReadAllText(outputsFile))?[stackName]?.AsObject().ToDictionary(o => o.Key, o => (string?)o.Value ?? "", StringComparer.Ordinal)
        ?? throw new InvalidDataException($"{outputsFile} has no outputs for the stack {stackName}");

    public static IEnumerable<string> Describe(IReadOnlyDictionary<string, string> outputs, AwsTarget target)
    {
        string Output(string name) => outputs.TryGetValue(name, out var value) ? value : "(missing)";
        var profile = target.Profile is null ? "" : $" --profile {target.Profile}";
        var bucket = Output(StackOutputNames.BucketName);
        yield return $"upload batches to   s3://{bucket}/data/<batch>/  (dotnet run --project Pipeline.Cli -- submit <folder> --bucket {bucket}{profile})";
        yield return $"KPI dashboard       {Output(StackOutputNames.DashboardUrl)}  (from inside the VPC or dashboardAllowedCidr only)";
        yield return $"alerts topic        {Output(StackOutputNames.AlertsTopicArn)}  (each alertEmails address confirms its subscription by email)";
        foreach (var (name, value) in outputs
            .Where(o => o.Key is not (StackOutputNames.BucketName or StackOutputNames.DashboardUrl or StackOutputNames.AlertsTopicArn))
            .OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            yield return $"{name,-19} {value}";
        }
    }
}
