namespace Deploy.Cli;

/// <summary>
/// <c>deploy</c>: check, build the five images, write the template with them as image assets, install the pinned CDK CLI,
/// let it publish the images and the template and deploy the stack (waiting for it), then say where things are.
/// </summary>
public sealed class DeployPlan(DeploymentRequest request)
{
    private readonly Workspace _workspace = request.Workspace;
    private PreflightReport? _report;

    private string Images => request.Images ?? _workspace.Images;

    private CdkCli Cli => new(_workspace, request.Target, _report?.ContainerEngine);

    public Task<int> RunAsync(TextWriter console, CancellationToken cancellationToken) =>
        new PlanRunner(_workspace, console, request.DryRun).RunAsync(
            $"Deploy the stack {request.StackName} to {Where()}", Steps(), cancellationToken);

    private string Where() => request.Target.Region is { } region ? $"region {region}" : "the region your AWS settings name";

    private IReadOnlyList<PlanStep> Steps() =>
    [
        CommonSteps.Prerequisites("Check the prerequisites: credentials, region, CDK bootstrap, container engine, Node.js",
            new Preflight(_workspace, request.Target).ForDeployAsync, report => _report = report),
        request.Images is null ? BuildImages() : UseImages(),
        CommonSteps.Template(request, "Write the template, the five images as image assets (synthesis)", Images),
        CommonSteps.InstallCdkCli(_workspace, () => Cli),
        new PlanStep(
            "Publish the images and the template, deploy the stack and wait for it (CloudFormation's events as they come)",
            () => [$"$ {Cli.Deploy(request.StackName)}"],
            (plan, cancellationToken) => plan.RunCommandAsync(Cli.Deploy(request.StackName), cancellationToken)),
        new PlanStep(
            "Say where things are (the stack's outputs)",
            () => [$"from {_workspace.Display(_workspace.OutputsFile)}"],
            (plan, _) =>
            {
                foreach (var line in StackOutputs.Describe(StackOutputs.Read(_workspace.OutputsFile, request.StackName), request.Target))
                {
                    plan.Line(PlanRunner.Indent + line);
                }
                plan.Line($"{PlanRunner.Indent}next: check it end to end with dotnet run --project Pipeline.Cli -- smoke{SmokeOptions()} (docs/deploy.md)");
                return Task.FromResult(StepResult.Done);
            }),
    ];

    private PlanStep BuildImages()
    {
        var builder = new ImageBuilder(_workspace, request.BaseImage);
        return new PlanStep(
            $"Build the {ImageBuilder.Services.Count} service images with the .NET SDK (no Dockerfile) into {_workspace.Display(Images)}",
            () => ImageBuilder.Services.Select(s => $"$ {builder.Command(s, Images)}"),
            async (plan, cancellationToken) =>
            {
                Directory.CreateDirectory(Images);
                foreach (var (service, number) in ImageBuilder.Services.Select((s, i) => (s, i + 1)))
                {
                    plan.Console.WriteLine($"{PlanRunner.Indent}{WorkerImages.ImageName(service)} ({number}/{ImageBuilder.Services.Count})");
                    var result = await plan.RunCommandAsync(builder.Command(service, Images), cancellationToken);
                    if (!result.Succeeded)
                    {
                        return result with
                        {
                            Reason = $"{result.Reason} (building {WorkerImages.ImageName(service)}; without access to mcr.microsoft.com pass --base-image)",
                        };
                    }
                }
                return StepResult.Done;
            })
        {
            InDryRun = true,
        };
    }

    private PlanStep UseImages() => new(
        $"Use the image archives already built in {_workspace.Display(Images)} (nothing is built)",
        () => ImageBuilder.Services.Select(s => _workspace.Display(Path.Combine(Images, WorkerImages.ArchiveFileName(s)))),
        (_, _) =>
        {
            var missing = ImageBuilder.Services.Select(s => Path.Combine(Images, WorkerImages.ArchiveFileName(s))).Where(f => !File.Exists(f)).ToList();
            return Task.FromResult(missing.Count == 0 ? StepResult.Done
                : new StepResult(ExitCodes.Failed, $"no image archive at {string.Join(", ", missing.Select(_workspace.Display))}"));
        })
    {
        InDryRun = true,
    };

    /// <summary>What <c>pipeline smoke</c> needs to find this deployment: its account, region, environment and bucket.</summary>
    private string SmokeOptions() =>
        string.Concat(
            request.Target.Profile is { } profile ? $" --profile {profile}" : "",
            request.Target.Region is { } region ? $" --region {region}" : "",
            request.StackName != Pipeline.Topology.PipelineTopology.DefaultEnvironment ? $" --environment {request.StackName}" : "",
            request.Settings.BucketName is { } bucket ? $" --bucket {bucket}" : "");
}
