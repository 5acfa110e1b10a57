namespace Deploy.Cli;

/// <summary>
/// The AWS CDK command line from npm (<c>aws-cdk</c>, pinned in Deploy/cdk/package-lock.json to the version that reads
/// the cloud assembly Amazon.CDK.Lib 2.160 writes), run on the assembly synthesis wrote: it publishes the image assets
/// (load, tag, push to the bootstrap repository, skipped when the repository has them) and the template, creates or
/// updates the stack, and waits for it, printing CloudFormation's events as they come.
/// </summary>
public sealed class CdkCli(Workspace workspace, AwsTarget target, string? containerEngine)
{
    public bool Installed => File.Exists(workspace.CdkExecutable);

    /// <summary>Installs the pinned CLI from its lock file.</summary>
    public ExternalCommand Install() =>
        new("npm", ["ci", "--prefix", workspace.Display(workspace.CdkPackage), "--no-audit", "--no-fund"], workspace.RepositoryRoot);

    /// <summary>
    /// Deploys the stack, its tables' deletion protection on or off (the template's parameter, <see cref="PipelineStack"/>).
    /// The value is always given: for a parameter left out the CLI keeps the stack's previous value (its
    /// <c>--previous-parameters</c> default), so the <c>false</c> of a first create would otherwise stay.
    /// </summary>
    public ExternalCommand Deploy(string stackName, bool tableDeletionProtection) => Command(
        "deploy", stackName, "--app", workspace.Display(workspace.CloudAssembly), "--require-approval", "never",
        "--parameters", $"{PipelineStack.TableDeletionProtectionParameter}={(tableDeletionProtection ? "true" : "false")}",
        "--outputs-file", workspace.Display(workspace.OutputsFile), "--progress", "events", "--no-notices");

    public ExternalCommand Destroy(string stackName) =>
        Command("destroy", stackName, "--app", workspace.Display(workspace.CloudAssembly), "--force", "--no-notices");

    /// <summary>
    /// The CLI with the region the checks found (so it deploys where they looked), the profile, and the container engine
    /// when it is not Docker (cdk-assets runs <c>CDK_DOCKER</c>, and the image assets load with it too).
    /// </summary>
    private ExternalCommand Command(params string[] arguments) =>
        new ExternalCommand(workspace.Display(workspace.CdkExecutable), [.. arguments, .. target.CdkArguments], workspace.RepositoryRoot)
            .WithEnvironment("AWS_REGION", target.Region)
            .WithEnvironment("CDK_DOCKER", containerEngine is null or "docker" ? null : containerEngine);
}
