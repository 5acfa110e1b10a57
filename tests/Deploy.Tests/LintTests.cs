using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>
/// cfn-lint (CloudFormation's own linter: resource schemas, value patterns, dependencies) on the template of every
/// configuration the docs offer: no error, and no warning but those Deploy/guard/accepted-lint-warnings.txt accepts.
/// It finds what synthesis and cfn-guard do not, such as a value EC2 would refuse and so roll the whole stack back.
/// </summary>
[Collection(CdkCollection.Name)]
public sealed partial class LintTests(SynthesizedStack stack)
{
    public const string AcceptedWarnings = "accepted-lint-warnings.txt";

    [LintFact]
    public void Cfn_lint_finds_no_error_and_only_the_accepted_warnings_in_any_documented_configuration()
    {
        var templates = stack.Configurations.ToDictionary(c => c.TemplateFile, c => c.ToString());

        // One run over all the templates: cfn-lint's start-up (its schemas) is most of its time.
        var lint = ToolRun.Run(CfnLint.Path!, ["--format", "json", .. templates.Keys]);

        // The exit code is a bit mask of what was found (2 errors, 4 warnings, 8 informational); 1 is cfn-lint failing itself.
        Assert.True((lint.ExitCode & 1) == 0 && lint.Output.TrimStart().StartsWith('['),
            $"cfn-lint failed to run (exit {lint.ExitCode}):\n{lint.Output}\n{lint.Errors}");
        var findings = JsonNode.Parse(lint.Output)!.AsArray().Select(f => (
            Configuration: templates[Path.GetFullPath((string)f!["Filename"]!)],
            Level: (string)f["Level"]!,
            Rule: (string)f["Rule"]!["Id"]!,
            Detail: $"at {string.Join('/', f["Location"]!["Path"]!.AsArray().Select(p => p!.ToString()))}: {(string)f["Message"]!}")).ToList();

        var refused = findings.Where(f => f.Level == "Error").Select(f => $"{f.Configuration}: {f.Rule} {f.Detail}").ToList();
        Assert.True(refused.Count == 0, $"cfn-lint errors (CloudFormation or the service would refuse these):\n{string.Join('\n', refused)}");
        AcceptList.AssertMatches(AcceptedWarnings, findings.Where(f => f.Level == "Warning").Select(f => (f.Configuration, f.Rule, f.Detail)).ToList());
    }

    /// <summary>EC2 refuses a security group (or rule) description with characters outside its set, such as an apostrophe (cfn-lint's E3031).</summary>
    [Fact]
    public void Every_security_group_and_rule_description_is_one_ec2_accepts()
    {
        var descriptions = stack.Configurations.Prepend(stack).SelectMany(template =>
            template.Resources("AWS::EC2::SecurityGroup").Select(g => g.Resource["Properties"]!).SelectMany(group =>
                    new[] { group["GroupDescription"] }.Concat(Rules(group, "SecurityGroupIngress")).Concat(Rules(group, "SecurityGroupEgress")))
                .Concat(template.Resources("AWS::EC2::SecurityGroupIngress").Concat(template.Resources("AWS::EC2::SecurityGroupEgress"))
                    .Select(r => r.Resource["Properties"]!["Description"])))
            .OfType<JsonValue>().Select(d => (string)d!).Distinct().ToList();

        Assert.NotEmpty(descriptions);
        Assert.All(descriptions, d => Assert.Matches(Ec2Description(), d));
    }

    private static IEnumerable<JsonNode?> Rules(JsonNode group, string kind) => (group[kind]?.AsArray() ?? []).Select(rule => rule!["Description"]);

    /// <summary>EC2's pattern for GroupDescription and rule descriptions (as cfn-lint checks it).</summary>
    [GeneratedRegex(@"^[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]*$")]
    private static partial Regex Ec2Description();

    /// <summary>cfn-lint on PATH (CI machines have it: .ci/run checks), or null.</summary>
    internal static class CfnLint
    {
        public static readonly string? Path = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => System.IO.Path.Combine(folder, "cfn-lint"))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Runs where cfn-lint is installed, and says so otherwise (CI fails earlier, in .ci/run, without it).</summary>
    private sealed class LintFactAttribute : FactAttribute
    {
        public LintFactAttribute()
        {
            if (CfnLint.Path is null)
            {
                Skip = "cfn-lint is not on PATH (pip install cfn-lint==1.51.0; the CI machines have it preinstalled and .ci/run checks that).";
            }
        }
    }
}
