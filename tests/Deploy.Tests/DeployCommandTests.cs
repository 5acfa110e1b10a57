using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Deploy.Cli;

namespace Deploy.Tests;

/// <summary>
/// <c>dotnet run --project Deploy -- deploy|destroy</c> as a user runs it, on a machine without AWS credentials. Image
/// building is skipped here (five images take minutes; CI publishes them once in .ci/containers.sh): the runs use
/// placeholder archives through <c>--images</c>, which synthesis only copies and hashes.
/// </summary>
public sealed partial class DeployCommandTests(MotoServer moto) : IClassFixture<MotoServer>, IDisposable
{
    private const string Region = "eu-west-1";

    private static readonly string[] DeploySteps =
    [
        "Check the prerequisites: credentials, region, CDK bootstrap, container engine, Node.js",
        "Use the image archives already built in {images} (nothing is built)",
        "Write the template, the five images as image assets (synthesis)",
        "Install the CDK CLI (npm aws-cdk, pinned in Deploy/cdk/package-lock.json)",
        "Publish the images and the template, deploy the stack and wait for it (CloudFormation's events as they come)",
        "Say where things are (the stack's outputs)",
    ];

    private readonly DeployCli _cli = new();

    [Fact]
    public async Task A_dry_run_without_credentials_or_a_container_engine_prints_every_step_and_command_reports_what_is_missing_and_writes_the_template()
    {
        var images = _cli.PlaceholderImages();
        var (exit, output) = await _cli.RunAsync(new Dictionary<string, string> { ["PATH"] = _cli.PathWithoutContainerEngines() },
            "deploy", "--dry-run", "--out", _cli.Output, "--images", images, "--region", Region, "alertEmails=ops@example.com", "minTasks=0");

        Assert.True(exit == 0, output);
        Assert.Equal(DeploySteps.Select(s => s.Replace("{images}", images, StringComparison.Ordinal)),
            StepTitles().Matches(output).Select(m => m.Groups["title"].Value));

        // The checks: each missing one with how to fix it; a dry run goes on.
        Assert.Contains("MISSING  AWS credentials: none found (environment, profile, SSO, container or instance role)", output, StringComparison.Ordinal);
        Assert.Contains("fix: sign in with a profile that may deploy (aws configure sso, then aws sso login --profile NAME) and pass --profile NAME",
            output, StringComparison.Ordinal);
        Assert.Contains($"ok       AWS region: {Region}", output, StringComparison.Ordinal);
        Assert.Contains("skipped  CDK bootstrap: needs credentials and a region", output, StringComparison.Ordinal);
        Assert.Contains("MISSING  container engine: none answers (docker: not installed; podman: not installed)", output, StringComparison.Ordinal);
        Assert.Contains("fix: install and start Docker, or install Podman", output, StringComparison.Ordinal);
        Assert.Contains("ok       Node.js and npm: node v", output, StringComparison.Ordinal);
        Assert.Contains("(dry run: going on; a real run stops here until each MISSING line is fixed)", output, StringComparison.Ordinal);

        // The exact commands, the settings substituted.
        var assembly = Path.Combine(_cli.Output, "cdk.out");
        Assert.Contains(
            $"(in this process; the same as: dotnet run --project Deploy -- synth --out {assembly} --images {images} alertEmails=ops@example.com minTasks=0)",
            output, StringComparison.Ordinal);
        Assert.Contains(File.Exists(Path.Combine(GuardTests.RepositoryRoot(), "Deploy", "cdk", "node_modules", ".bin", "cdk"))
            ? "already installed in Deploy/cdk/node_modules" : "$ npm ci --prefix Deploy/cdk --no-audit --no-fund", output, StringComparison.Ordinal);
        Assert.Contains($"$ AWS_REGION={Region} Deploy/cdk/node_modules/.bin/cdk deploy pipeline --app {assembly} --require-approval never " +
            $"--outputs-file {Path.Combine(_cli.Output, "outputs.json")} --progress events --no-notices", output, StringComparison.Ordinal);

        // The template, with the five images as assets in the CDK bootstrap repository (no image parameters, no hand-made repositories).
        var template = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(assembly, "pipeline.template.json")))!;
        Assert.Null(template["Parameters"]?["ImageTag"]);
        var serviceImages = ContainerImages(template).ToList();
        Assert.Equal(ImageBuilder.Services.Order(StringComparer.Ordinal), serviceImages.Select(i => i.Service).Order(StringComparer.Ordinal));
        Assert.All(serviceImages, i => Assert.Contains("cdk-hnb659fds-container-assets-", i.Image, StringComparison.Ordinal));
        // ... which the CDK CLI loads with the engine it pushes with (CDK_DOCKER), not a literal docker.
        var assets = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(assembly, "pipeline.assets.json")))!["dockerImages"]!.AsObject();
        Assert.Equal(ImageBuilder.Services.Count, assets.Count);
        Assert.All(assets, a =>
            Assert.StartsWith("\"${CDK_DOCKER:-docker}\" load -i asset.", (string)a.Value!["source"]!["executable"]![2]!, StringComparison.Ordinal));

        // The plan, as printed, is in the output folder.
        var plan = await File.ReadAllTextAsync(Path.Combine(_cli.Output, "plan.txt"));
        Assert.Contains("[5/6] Publish the images and the template", plan, StringComparison.Ordinal);
        Assert.Contains($"$ AWS_REGION={Region} Deploy/cdk/node_modules/.bin/cdk deploy pipeline", plan, StringComparison.Ordinal);
        Assert.Contains("MISSING  container engine", plan, StringComparison.Ordinal);
    }

    [MotoFact]
    public async Task A_deploy_to_an_account_that_is_not_bootstrapped_stops_before_building_anything_and_says_how_to_bootstrap_it()
    {
        var (exit, output) = await _cli.RunAsync(moto.Environment(Region), "deploy", "--out", _cli.Output, "--images", _cli.PlaceholderImages());

        Assert.True(exit == ExitCodes.PrerequisitesMissing, output);
        Assert.Contains($"ok       AWS credentials: arn:aws:sts::{MotoServer.Account}:user/moto (account {MotoServer.Account})",
            output, StringComparison.Ordinal);
        Assert.Contains($"MISSING  CDK bootstrap: aws://{MotoServer.Account}/{Region} is not bootstrapped (no SSM parameter /cdk-bootstrap/hnb659fds/version)",
            output, StringComparison.Ordinal);
        Assert.Contains($"fix: bootstrap the account once per region: Deploy/cdk/node_modules/.bin/cdk bootstrap aws://{MotoServer.Account}/{Region}",
            output, StringComparison.Ordinal);
        Assert.Contains("stopped: a prerequisite is missing (fix each MISSING line above); nothing was built, deployed or deleted",
            output, StringComparison.Ordinal);
        Assert.DoesNotContain("[2/6]", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_cli.Output, "cdk.out")));
    }

    [MotoFact]
    public async Task Destroy_without_yes_in_a_non_interactive_run_says_what_would_be_kept_and_deletes_nothing()
    {
        var (exit, output) = await _cli.RunAsync(moto.Environment(Region), "destroy", "--out", _cli.Output);

        Assert.True(exit == ExitCodes.Failed, output);
        Assert.Contains("no terminal to ask on: run again with --yes to delete the stack pipeline", output, StringComparison.Ordinal);
        Assert.Contains("stopped: not confirmed; nothing was deleted", output, StringComparison.Ordinal);
        Assert.DoesNotContain("[4/6]", output, StringComparison.Ordinal);

        // What is kept is what the template retains: the data (the bucket and the tables at least), each named.
        var template = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_cli.Output, "cdk.out", "pipeline.template.json")))!;
        var retained = template["Resources"]!.AsObject()
            .Where(r => ((string?)r.Value!["DeletionPolicy"])?.StartsWith("Retain", StringComparison.Ordinal) == true).ToList();
        Assert.Contains(retained, r => (string?)r.Value!["Type"] == "AWS::S3::Bucket");
        Assert.Contains(retained, r => (string?)r.Value!["Type"] == "AWS::DynamoDB::Table");
        Assert.Contains("kept, with their data:", output, StringComparison.Ordinal);
        Assert.All(retained, r => Assert.Contains($"  {(string?)r.Value!["Type"]} ", output, StringComparison.Ordinal));
        // The default bucket's name is made from the account, which the checks found (moto's).
        Assert.Contains($"  AWS::S3::Bucket {Pipeline.Topology.PipelineTopology.AccountBucketName("pipeline", MotoServer.Account, Region)}", output,
            StringComparison.Ordinal);
    }

    [Fact]
    public void The_images_are_built_by_the_sdk_from_the_projects_into_docker_archives_one_per_service()
    {
        var workspace = new Workspace(GuardTests.RepositoryRoot(), _cli.Output);
        var builder = new ImageBuilder(workspace, "localhost:5000/pipeline-base/debian-deps:12");

        Assert.Equal(["validate", "transform", "compute", "notifier", "dashboard"], ImageBuilder.Services);
        Assert.Equal("dotnet publish Services.Validate/Services.Validate.csproj -c Release --nologo /t:PublishContainer " +
            $"-p:ContainerArchiveOutputPath={_cli.Output}/images/pipeline-validate.tar -p:ContainerImageFormat=Docker " +
            "-p:ContainerBaseImage=localhost:5000/pipeline-base/debian-deps:12", builder.Command("validate", workspace.Images).ToString());
        Assert.Equal(workspace.RepositoryRoot, builder.Command("dashboard", workspace.Images).WorkingDirectory);
    }

    public void Dispose() => _cli.Dispose();

    /// <summary>Each service's image in the template's task definitions, as JSON.</summary>
    private static IEnumerable<(string Service, string Image)> ContainerImages(JsonNode template) =>
        template["Resources"]!.AsObject().Select(r => r.Value!)
            .Where(r => (string?)r["Type"] == "AWS::ECS::TaskDefinition")
            .SelectMany(r => r["Properties"]!["ContainerDefinitions"]!.AsArray())
            .Where(c => (string?)c!["Name"] != "otel-collector")
            .Select(c => ((string)c!["Name"]!, c["Image"]!.ToJsonString()));

    [GeneratedRegex(@"^\[\d+/\d+\] (?<title>.+)$", RegexOptions.Multiline)]
    private static partial Regex StepTitles();
}
