using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>
/// AWS Control Tower's proactive controls (cfn-guard 3 and its rule set, from the npm package in Deploy/guard) on the
/// synthesized template: nothing fails but what Deploy/guard/accepted-failures.txt accepts, each with its reason.
/// </summary>
[Collection(CdkCollection.Name)]
public sealed partial class GuardTests(SynthesizedStack stack)
{
    private static readonly string GuardFolder = Path.Combine(RepositoryRoot(), "Deploy", "guard");
    private static readonly string Package = Path.Combine(GuardFolder, "node_modules", "@cdklabs", "cdk-validator-cfnguard");

    [GuardFact]
    public void The_template_fails_no_control_tower_rule_outside_the_accept_list()
    {
        var template = Path.Combine(stack.TempFolder, "guard.template.json");
        File.WriteAllText(template, JsonSerializer.Serialize(stack.Template.ToJSON()));

        using var guard = Process.Start(new ProcessStartInfo(Path.Combine(Package, "bin", "ubuntu", "x86_64", "cfn-guard"),
            ["validate", "-d", template, "-r", Path.Combine(Package, "rules", "control-tower", "cfn-guard"), "--show-summary", "fail"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = guard.StandardOutput.ReadToEnd() + guard.StandardError.ReadToEnd();
        guard.WaitForExit();

        Assert.True(guard.ExitCode is 0 or 19, $"cfn-guard failed to run (exit {guard.ExitCode}):\n{output}"); // 19: a rule failed
        var failed = FailedRule().Matches(output).Select(m => m.Groups["rule"].Value).Order(StringComparer.Ordinal).ToList();
        var accepted = File.ReadAllLines(Path.Combine(GuardFolder, "accepted-failures.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(' ', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1].Trim() : "");

        Assert.All(accepted, a => Assert.False(string.IsNullOrWhiteSpace(a.Value), $"{a.Key} is accepted without a reason"));
        Assert.Equal(accepted.Keys.Order(StringComparer.Ordinal), failed);
    }

    [GeneratedRegex(@"^(?<rule>ct-[\w.-]+\.guard/\w+)\s+FAIL\s*$", RegexOptions.Multiline)]
    private static partial Regex FailedRule();

    internal static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Distributed.sln")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException("Distributed.sln not found above the test folder.");
    }

    /// <summary>Runs when Deploy/guard's npm package is installed (.ci/run installs it), and says how to install it otherwise.</summary>
    private sealed class GuardFactAttribute : FactAttribute
    {
        public GuardFactAttribute()
        {
            if (!Directory.Exists(Package))
            {
                Skip = "cfn-guard is not installed: run `npm ci --prefix Deploy/guard --legacy-peer-deps` (.ci/run does).";
            }
        }
    }
}
