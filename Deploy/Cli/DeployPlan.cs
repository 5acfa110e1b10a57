namespace Deploy.Cli;

/// <summary>
/// <c>deploy</c>: check (the stack's state among the checks), build the six images (the five services and the command), write the template with them as image
/// assets, install the pinned CDK CLI, let it publish the images and the template and deploy the stack (waiting for it),
/// turn the tables' deletion protection on after a first create, then say where things are.
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
        CommonSteps.Prerequisites("Check the prerequisites: credentials, region, CDK bootstrap, the stack's state, container engine, Node.js",
            cancellationToken => new Preflight(_workspace, request.Target).ForDeployAsync(request.StackName, cancellationToken), report => _report = report),
        request.Images is null ? BuildImages() : UseImages(),
        CommonSteps.Template(request, "Write the template, the six images as image assets (synthesis)", Images),
        CommonSteps.InstallCdkCli(_workspace, () => Cli),
        new PlanStep(
            "Publish the images and the template, deploy the stack and wait for it (CloudFormation's events as they come)",
            DescribeDeploy,
            async (plan, cancellationToken) =>
            {
                var firstCreate = Stack!.IsFirstCreate;
                var result = await plan.RunCommandAsync(Cli.Deploy(request.StackName, !firstCreate && Protection), cancellationToken);
                return result.Succeeded || !firstCreate ? result : result with
                {
                    Reason = $"{result.Reason}; CloudFormation rolls a failed first create back completely: fix the cause and run the same command again",
                };
            }),
        new PlanStep(
            "Turn on the tables' deletion protection once a first create has succeeded (an update of that one property)",
            DescribeProtect,
            async (plan, cancellationToken) =>
            {
                if (!Stack!.IsFirstCreate || !Protection)
                {
                    return StepResult.Done;
                }
                var result = await plan.RunCommandAsync(Cli.Deploy(request.StackName, tableDeletionProtection: true), cancellationToken);
                return result.Succeeded ? result : result with
                {
                    Reason = $"{result.Reason}: the stack is up, but its tables are not protected yet; " +
                        "run the same command again (an update, which turns it on)",
                };
            }),
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

    private bool Protection => request.Settings.TableDeletionProtection;

    /// <summary>The stack's state as the checks found it; null when they could not look (a dry run without credentials).</summary>
    private StackState? Stack => _report?.Stack;

    /// <summary>The deploy's command for the stack's state; both, each with its case, when the state is not known.</summary>
    private IEnumerable<string> DescribeDeploy()
    {
        var create = $"$ {Cli.Deploy(request.StackName, tableDeletionProtection: false)}";
        var update = $"$ {Cli.Deploy(request.StackName, Protection)}";
        const string firstCreate = "a first create: the tables without deletion protection until it has succeeded, so that a create that fails " +
            "rolls back completely and the same command can simply run again";
        return Stack switch
        {
            { Course: StackCourse.Create } => [firstCreate, create],
            { Course: StackCourse.CreateAfterFailedCreate } =>
                ["the CDK CLI first deletes the stack left by the failed first create (ROLLBACK_COMPLETE), then", firstCreate, create],
            { } => [$"an update: the tables' deletion protection as tableDeletionProtection says ({(Protection ? "on" : "off")})", update],
            null when !Protection =>
            [
                "a first create or an update (the stack's state decides; not known without credentials), " +
                    "the tables unprotected either way (tableDeletionProtection=false):",
                create,
            ],
            null =>
            [
                "a first create or an update, as the stack's state decides (not known without credentials):",
                "if the stack does not exist yet, or its first create failed (ROLLBACK_COMPLETE: the CDK CLI deletes that stack first), " + firstCreate,
                "  " + create,
                "if it exists, an update, the tables protected:",
                "  " + update,
            ],
        };
    }

    private IEnumerable<string> DescribeProtect()
    {
        var protect = $"$ {Cli.Deploy(request.StackName, tableDeletionProtection: true)}";
        return Stack switch
        {
            _ when !Protection => ["nothing to do: tableDeletionProtection=false"],
            { IsFirstCreate: true } => ["the same template and images (already published): CloudFormation changes only that property of the tables", protect],
            { } => ["nothing to do: the update above deployed the tables protected"],
            null =>
            [
                "after a first create, the same template and images (already published): CloudFormation changes only that property of the tables",
                "  " + protect,
                "after an update: nothing to do (the update deployed the tables protected)",
            ],
        };
    }

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
