using System.Text.Json.Nodes;

namespace Deploy.Tests;

/// <summary>
/// <c>aspire publish</c> (the Aspire CLI pinned in .config/dotnet-tools.json) on the AppHost: its AWS step runs the deploy
/// command's dry run into the publish output folder, on a machine without AWS credentials. Image building is skipped as
/// in <see cref="DeployCommandTests"/> (placeholder archives through <c>Deploy:Images</c>).
/// </summary>
public sealed class AspirePublishTests : IDisposable
{
    private readonly DeployCli _cli = new();

    [AspireCliFact]
    public async Task Aspire_publish_writes_the_plan_and_the_template_of_the_same_deploy_command_into_its_output_folder()
    {
        var images = _cli.PlaceholderImages();
        var (exit, output) = await RunAspireAsync("publish", "--non-interactive", "--nologo", "--no-build", "-o", _cli.Output, "--",
            $"--Deploy:Images={images}", "--Deploy:Region=eu-west-1", "--Deploy:Settings:alertEmails=ops@example.com");

        Assert.True(exit == 0, output);
        Assert.Contains("aws-plan", output, StringComparison.Ordinal);
        var plan = await File.ReadAllTextAsync(Path.Combine(_cli.Output, "plan.txt"));
        Assert.Contains("(dry run: every step printed", plan, StringComparison.Ordinal);
        Assert.Contains("MISSING  AWS credentials", plan, StringComparison.Ordinal);
        Assert.Contains($"--images {images} alertEmails=ops@example.com)", plan, StringComparison.Ordinal);
        Assert.Contains($"AWS_REGION=eu-west-1", plan, StringComparison.Ordinal);
        Assert.Contains($"Deploy/cdk/node_modules/.bin/cdk deploy pipeline --app {Path.Combine(_cli.Output, "cdk.out")}", plan, StringComparison.Ordinal);
        var template = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_cli.Output, "cdk.out", "pipeline.template.json")))!;
        // The address receives the alerts and the operations alarms: one email subscription to each topic.
        var emails = template["Resources"]!.AsObject()
            .Where(r => (string?)r.Value!["Type"] == "AWS::SNS::Subscription" && (string?)r.Value!["Properties"]!["Protocol"] == "email").ToList();
        Assert.Equal(2, emails.Count);
        Assert.All(emails, e => Assert.Equal("ops@example.com", (string?)e.Value!["Properties"]!["Endpoint"]));
    }

    public void Dispose() => _cli.Dispose();

    /// <summary>
    /// The pinned Aspire CLI from the repository's root, in the deploy command's test environment (no AWS credentials).
    /// HOME stays the user's: the CLI keeps its own state there.
    /// </summary>
    private Task<(int ExitCode, string Output)> RunAspireAsync(params string[] arguments) =>
        _cli.RunDotnetAsync(
            new Dictionary<string, string> { ["HOME"] = Environment.GetEnvironmentVariable("HOME") ?? "/root", ["ASPIRE_CLI_TELEMETRY_OPTOUT"] = "true" },
            RepositoryFolder.Root, ["tool", "run", "aspire", .. arguments]);

    /// <summary>Runs when the Aspire CLI is restored (<c>dotnet tool restore</c>; .ci/run does), and says how to restore it otherwise.</summary>
    private sealed class AspireCliFactAttribute : FactAttribute
    {
        public AspireCliFactAttribute()
        {
            if (ToolRun.Run("dotnet", ["tool", "run", "aspire", "--version"], RepositoryFolder.Root).ExitCode != 0)
            {
                Skip = "The Aspire CLI is not restored: run `dotnet tool restore` (.ci/run does).";
            }
        }
    }
}
