namespace Deploy.Cli;

/// <summary>The steps deploy and destroy share: the checks, the template, the CDK CLI's installation.</summary>
public static class CommonSteps
{
    /// <summary>
    /// Runs the checks and reports each. A dry run goes on whatever they found (it touches nothing that needs them);
    /// a real run stops before doing anything when one fails.
    /// </summary>
    public static PlanStep Prerequisites(string title, Func<CancellationToken, Task<PreflightReport>> check, Action<PreflightReport> found) => new(
        title,
        () => [],
        async (plan, cancellationToken) =>
        {
            var report = await check(cancellationToken);
            found(report);
            foreach (var result in report.Results)
            {
                plan.Line(PlanRunner.Indent + result.ToString().Replace("\n", "\n" + PlanRunner.Indent, StringComparison.Ordinal));
            }
            if (report.AllPassed)
            {
                return StepResult.Done;
            }
            if (plan.DryRun)
            {
                plan.Line($"{PlanRunner.Indent}(dry run: going on; a real run stops here until each MISSING line is fixed)");
                return StepResult.Done;
            }
            return new StepResult(ExitCodes.PrerequisitesMissing,
                "a prerequisite is missing (fix each MISSING line above); nothing was built, deployed or deleted");
        })
    {
        InDryRun = true,
    };

    /// <summary>Synthesis in this process into a fresh cloud assembly (stale staged images would pile up otherwise).</summary>
    public static PlanStep Template(DeploymentRequest request, string title, string? images) => new(
        title,
        () => [$"(in this process; the same as: {request.SynthCommand(images)})"],
        (plan, _) =>
        {
            var assembly = request.Workspace.CloudAssembly;
            if (Directory.Exists(assembly))
            {
                Directory.Delete(assembly, recursive: true);
            }
            var template = DeployCommand.Synthesize(request.Settings with { ImageArchives = images }, assembly);
            plan.Line($"{PlanRunner.Indent}wrote {request.Workspace.Display(template)} ({new FileInfo(template).Length / 1024} KiB)");
            return Task.FromResult(StepResult.Done);
        })
    {
        InDryRun = true,
    };

    public static PlanStep InstallCdkCli(Workspace workspace, Func<CdkCli> cli) => new(
        "Install the CDK CLI (npm aws-cdk, pinned in Deploy/cdk/package-lock.json)",
        () => [cli().Installed ? $"already installed in {workspace.Display(workspace.CdkPackage)}/node_modules" : $"$ {cli().Install()}"],
        (plan, cancellationToken) => cli().Installed ? Task.FromResult(StepResult.Done) : plan.RunCommandAsync(cli().Install(), cancellationToken));
}
