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
        "Check the prerequisites: credentials, region, CDK bootstrap, the stack's state, container engine, Node.js",
        "Use the image archives already built in {images} (nothing is built)",
        "Write the template, the six images as image assets (synthesis)",
        "Install the CDK CLI (npm aws-cdk, pinned in Deploy/cdk/package-lock.json)",
        "Publish the images and the template, deploy the stack and wait for it (CloudFormation's events as they come)",
        "Turn on the tables' deletion protection once a first create has succeeded (an update of that one property)",
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
        Assert.Contains("skipped  CloudFormation stack: needs credentials and a region (DescribeStacks tells a first create from an update)",
            output, StringComparison.Ordinal);
        Assert.Contains("MISSING  container engine: none answers (docker: not installed; podman: not installed)", output, StringComparison.Ordinal);
        Assert.Contains("fix: install and start Docker, or install Podman", output, StringComparison.Ordinal);
        Assert.Contains("ok       Node.js and npm: node v", output, StringComparison.Ordinal);
        Assert.Contains("(dry run: going on; a real run stops here until each MISSING line is fixed)", output, StringComparison.Ordinal);

        // The exact commands, the settings substituted.
        var assembly = Path.Combine(_cli.Output, "cdk.out");
        Assert.Contains(
            $"(in this process; the same as: dotnet run --project Deploy -- synth --out {assembly} --images {images} alertEmails=ops@example.com minTasks=0)",
            output, StringComparison.Ordinal);
        Assert.Contains(File.Exists(Path.Combine(RepositoryFolder.Root, "Deploy", "cdk", "node_modules", ".bin", "cdk"))
            ? "already installed in Deploy/cdk/node_modules" : "$ npm ci --prefix Deploy/cdk --no-audit --no-fund", output, StringComparison.Ordinal);
        // Which deploy runs depends on the stack, which only credentials can see: both branches, each with its commands.
        Assert.Equal(
            [
                "a first create or an update, as the stack's state decides (not known without credentials):",
                "if the stack does not exist yet, or its first create failed (ROLLBACK_COMPLETE: the CDK CLI deletes that stack first), a first create: " +
                    "the tables without deletion protection until it has succeeded, so that a create that fails rolls back completely " +
                    "and the same command can simply run again",
                "  " + CdkDeploy(assembly, tableDeletionProtection: false),
                "if it exists, an update, the tables protected:",
                "  " + CdkDeploy(assembly, tableDeletionProtection: true),
            ],
            StepLines(output, 5));
        Assert.Equal(
            [
                "after a first create, the same template and images (already published): CloudFormation changes only that property of the tables",
                "  " + CdkDeploy(assembly, tableDeletionProtection: true),
                "after an update: nothing to do (the update deployed the tables protected)",
            ],
            StepLines(output, 6));

        // The template, with the six images as assets in the CDK bootstrap repository (no image parameters, no hand-made repositories).
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
        Assert.Contains("[5/7] Publish the images and the template", plan, StringComparison.Ordinal);
        Assert.Contains(CdkDeploy(assembly, tableDeletionProtection: false), plan, StringComparison.Ordinal);
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
        Assert.Contains("ok       CloudFormation stack: pipeline does not exist yet: a first create", output, StringComparison.Ordinal);
        Assert.Contains("stopped: a prerequisite is missing (fix each MISSING line above); nothing was built, deployed or deleted",
            output, StringComparison.Ordinal);
        Assert.DoesNotContain("[2/7]", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_cli.Output, "cdk.out")));
    }

    [MotoFact]
    public async Task The_plan_is_a_first_create_then_the_protection_for_a_new_stack_and_one_protected_update_for_a_stack_that_exists()
    {
        const string newStack = "pipeline-new";
        const string existingStack = "pipeline-old";
        await moto.CreateStackAsync(existingStack, Region);
        var images = _cli.PlaceholderImages();
        var environment = new Dictionary<string, string>(moto.Environment(Region)) { ["PATH"] = _cli.PathWithoutContainerEngines() };
        Task<(int ExitCode, string Output)> DryRun(string stackName) => _cli.RunAsync(environment,
            "deploy", "--dry-run", "--out", Path.Combine(_cli.Folder, stackName), "--images", images, $"stackName={stackName}");

        // Both at once (each synthesizes): the stack lookup is what differs, moto's CloudFormation answering as AWS does.
        var runs = await Task.WhenAll(DryRun(newStack), DryRun(existingStack));

        var (exit, output) = runs[0];
        var assembly = Path.Combine(_cli.Folder, newStack, "cdk.out");
        Assert.True(exit == 0, output);
        Assert.Contains($"ok       CloudFormation stack: {newStack} does not exist yet: a first create", output, StringComparison.Ordinal);
        Assert.Equal(
            [
                "a first create: the tables without deletion protection until it has succeeded, so that a create that fails rolls back completely " +
                    "and the same command can simply run again",
                CdkDeploy(assembly, tableDeletionProtection: false, newStack),
            ],
            StepLines(output, 5));
        Assert.Equal(
            [
                "the same template and images (already published): CloudFormation changes only that property of the tables",
                CdkDeploy(assembly, tableDeletionProtection: true, newStack),
            ],
            StepLines(output, 6));

        // A stack that exists: one deploy, protected; nothing to turn on after it.
        (exit, output) = runs[1];
        assembly = Path.Combine(_cli.Folder, existingStack, "cdk.out");
        Assert.True(exit == 0, output);
        Assert.Contains($"ok       CloudFormation stack: {existingStack} exists (CREATE_COMPLETE): an update", output, StringComparison.Ordinal);
        Assert.Equal(
            [
                "an update: the tables' deletion protection as tableDeletionProtection says (on)",
                CdkDeploy(assembly, tableDeletionProtection: true, existingStack),
            ],
            StepLines(output, 5));
        Assert.Equal(["nothing to do: the update above deployed the tables protected"], StepLines(output, 6));
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
        var workspace = new Workspace(RepositoryFolder.Root, _cli.Output);
        var builder = new ImageBuilder(workspace, "localhost:5000/pipeline-base/debian-deps:12");

        Assert.Equal(["validate", "transform", "compute", "notifier", "dashboard", "cli"], ImageBuilder.Services);
        Assert.Equal("dotnet publish Services.Validate/Services.Validate.csproj -c Release --nologo /t:PublishContainer " +
            $"-p:ContainerArchiveOutputPath={_cli.Output}/images/pipeline-validate.tar -p:ContainerImageFormat=Docker " +
            "-p:ContainerBaseImage=localhost:5000/pipeline-base/debian-deps:12", builder.Command("validate", workspace.Images).ToString());
        Assert.Equal(workspace.RepositoryRoot, builder.Command("dashboard", workspace.Images).WorkingDirectory);
        // The command's image (the reconciliation task's), from Pipeline.Cli published as a container rather than installed.
        Assert.Equal("dotnet publish Pipeline.Cli/Pipeline.Cli.csproj -c Release --nologo /t:PublishContainer " +
            $"-p:ContainerArchiveOutputPath={_cli.Output}/images/pipeline-cli.tar -p:ContainerImageFormat=Docker -p:PipelineContainer=true " +
            "-p:ContainerBaseImage=localhost:5000/pipeline-base/debian-deps:12", builder.Command("cli", workspace.Images).ToString());
    }

    [Fact]
    public void An_image_archive_in_the_default_output_folder_inside_the_repository_is_named_by_its_absolute_path()
    {
        // MSBuild resolves a relative ContainerArchiveOutputPath against the project's folder (Services.Validate/artifacts/...),
        // where synthesis would not find it.
        var workspace = new Workspace(RepositoryFolder.Root, Path.Combine(RepositoryFolder.Root, "artifacts", "deploy"));

        var command = new ImageBuilder(workspace, baseImage: null).Command("validate", workspace.Images);

        Assert.Contains($"-p:ContainerArchiveOutputPath={workspace.Output}/images/pipeline-validate.tar", command.Arguments);
    }

    public void Dispose() => _cli.Dispose();

    /// <summary>The CDK CLI's deploy as the plan prints it (with no container engine on the PATH, none is named).</summary>
    private static string CdkDeploy(string assembly, bool tableDeletionProtection, string stackName = "pipeline") =>
        $"$ AWS_REGION={Region} Deploy/cdk/node_modules/.bin/cdk deploy {stackName} --app {assembly} --require-approval never " +
        $"--parameters TableDeletionProtection={(tableDeletionProtection ? "true" : "false")} " +
        $"--outputs-file {Path.Combine(Path.GetDirectoryName(assembly)!, "outputs.json")} --progress events --no-notices";

    /// <summary>The lines a step prints under its title (without their indentation), up to the next step.</summary>
    private static IReadOnlyList<string> StepLines(string output, int step) =>
        output.Split('\n').SkipWhile(l => !l.StartsWith($"[{step}/", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => l.Trim().Length > 0)
            .Select(l => l[PlanRunner.Indent.Length..]).ToList();

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
