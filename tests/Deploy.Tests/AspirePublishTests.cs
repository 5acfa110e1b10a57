using System.Diagnostics;
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
        Assert.Single(template["Resources"]!.AsObject(), r => (string?)r.Value!["Type"] == "AWS::SNS::Subscription" && (string?)r.Value!["Properties"]!["Protocol"] == "email");
    }

    public void Dispose() => _cli.Dispose();

    /// <summary>The pinned Aspire CLI from the repository's root, without AWS credentials (the same environment as the deploy command's tests).</summary>
    private async Task<(int ExitCode, string Output)> RunAspireAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = GuardTests.RepositoryRoot(),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])["tool", "run", "aspire", .. arguments])
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        start.Environment["AWS_CONFIG_FILE"] = Path.Combine(_cli.Folder, "no-aws-config");
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(_cli.Folder, "no-aws-credentials");
        start.Environment["ASPIRE_CLI_TELEMETRY_OPTOUT"] = "true";
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    /// <summary>Runs when the Aspire CLI is restored (<c>dotnet tool restore</c>; .ci/run does), and says how to restore it otherwise.</summary>
    private sealed class AspireCliFactAttribute : FactAttribute
    {
        public AspireCliFactAttribute()
        {
            using var probe = Process.Start(new ProcessStartInfo("dotnet", ["tool", "run", "aspire", "--version"])
            {
                WorkingDirectory = GuardTests.RepositoryRoot(),
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            probe.StandardOutput.ReadToEnd();
            probe.StandardError.ReadToEnd();
            probe.WaitForExit();
            if (probe.ExitCode != 0)
            {
                Skip = "The Aspire CLI is not restored: run `dotnet tool restore` (.ci/run does).";
            }
        }
    }
}
