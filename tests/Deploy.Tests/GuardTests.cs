using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>
/// AWS Control Tower's proactive controls (cfn-guard 3 and its rule set, from the npm package in Deploy/guard) on the
/// template of every configuration the docs offer: nothing fails but what Deploy/guard/accepted-failures.txt accepts,
/// each with its reason.
/// </summary>
[Collection(CdkCollection.Name)]
public sealed partial class GuardTests(SynthesizedStack stack)
{
    private static readonly string Package = Path.Combine(AcceptList.Folder, "node_modules", "@cdklabs", "cdk-validator-cfnguard");

    [GuardFact]
    public void No_documented_configuration_fails_a_control_tower_rule_outside_the_accept_list()
    {
        var templates = stack.Configurations.ToDictionary(c => c.TemplateFile, c => c.ToString());

        var rules = Path.Combine(Package, "rules", "control-tower", "cfn-guard");
        var guard = ToolRun.Run(Path.Combine(Package, "bin", "ubuntu", "x86_64", "cfn-guard"),
            ["validate", .. templates.Keys.SelectMany(t => new[] { "-d", t }), "-r", rules, "--show-summary", "fail"]);

        Assert.True(guard.ExitCode is 0 or 19, $"cfn-guard failed to run (exit {guard.ExitCode}):\n{guard.Output}\n{guard.Errors}"); // 19: a rule failed
        var failed = FailedRule().Matches(guard.Output)
            .Select(m => (Configuration: templates[m.Groups["file"].Value], Rule: m.Groups["rule"].Value, Detail: "")).Distinct().ToList();
        AcceptList.AssertMatches("accepted-failures.txt", failed);

        // The one accepted failure that a setting lifts: with a certificate, the dashboard's listener is HTTPS only.
        var https = stack.Configuration("existing-vpc").ToString();
        Assert.DoesNotContain(failed, f => f.Configuration == https && f.Rule.EndsWith("/alb_http_to_https_redirection_check", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"^(?<file>\S+) Status = FAIL\s*\nFAILED rules\s*\n(?<rule>ct-[\w.-]+\.guard/\w+)\s+FAIL\s*$", RegexOptions.Multiline)]
    private static partial Regex FailedRule();

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
