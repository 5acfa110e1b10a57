namespace Deploy.Cli;

/// <summary>
/// <c>destroy</c>: check, write the template (the CDK CLI destroys a stack of a cloud assembly, and the template says what
/// is kept), ask, install the pinned CDK CLI, delete the stack and wait for it, then say what is left and why.
/// </summary>
public sealed class DestroyPlan(DeploymentRequest request, TextReader input, bool interactive)
{
    private readonly Workspace _workspace = request.Workspace;
    private PreflightReport? _report;

    private CdkCli Cli => new(_workspace, request.Target, null);

    private string TemplateFile => Path.Combine(_workspace.CloudAssembly, $"{request.StackName}.template.json");

    public Task<int> RunAsync(TextWriter console, CancellationToken cancellationToken) =>
        new PlanRunner(_workspace, console, request.DryRun).RunAsync(
            $"Delete the stack {request.StackName} in {request.Target.Region ?? "the region your AWS settings name"}", Steps(), cancellationToken);

    private IReadOnlyList<PlanStep> Steps() =>
    [
        CommonSteps.Prerequisites("Check the prerequisites: credentials, region, Node.js",
            new Preflight(_workspace, request.Target).ForDestroyAsync, report => _report = report),
        CommonSteps.Template(request, "Write the template (the CDK CLI deletes the stack of a cloud assembly; it says what is kept)", images: null),
        new PlanStep(
            "Confirm",
            () => [$"deletes the stack {request.StackName}{Account()} and everything in it except what it retains by design (listed below)",
                request.Yes ? "confirmed by --yes" : "asks you to type the stack's name (or pass --yes)"],
            (plan, _) =>
            {
                WriteKept(plan);
                return Task.FromResult(plan.DryRun || request.Yes || Confirm(plan) ? StepResult.Done
                    : new StepResult(ExitCodes.Failed, "not confirmed; nothing was deleted"));
            })
        {
            InDryRun = true,
        },
        CommonSteps.InstallCdkCli(_workspace, () => Cli),
        new PlanStep(
            "Delete the stack and wait for it",
            () => [$"$ {Cli.Destroy(request.StackName)}"],
            (plan, cancellationToken) => plan.RunCommandAsync(Cli.Destroy(request.StackName), cancellationToken)),
        new PlanStep(
            "Say what is left",
            () => ["the resources retained by design, and the CDK bootstrap's (its bucket and image repository hold this stack's assets)"],
            (plan, _) =>
            {
                WriteKept(plan);
                plan.Line($"{PlanRunner.Indent}a new deploy with the same names fails while these exist: " +
                    "delete them by hand when you mean it (docs/deploy.md), or deploy another stackName");
                return Task.FromResult(StepResult.Done);
            }),
    ];

    private string Account() => _report?.Account is { } account ? $" (account {account})" : "";

    private void WriteKept(PlanRunner plan)
    {
        plan.Line($"{PlanRunner.Indent}kept, with their data:");
        foreach (var resource in RetainedResources.In(TemplateFile, _report?.Account, _report?.Region))
        {
            plan.Line($"{PlanRunner.Indent}  {resource}");
        }
    }

    /// <summary>The stack's name typed back at a terminal; without one (a script, CI) nothing is asked and nothing deleted.</summary>
    private bool Confirm(PlanRunner plan)
    {
        if (!interactive)
        {
            plan.Line($"{PlanRunner.Indent}no terminal to ask on: run again with --yes to delete the stack {request.StackName}");
            return false;
        }
        plan.Console.Write($"{PlanRunner.Indent}type the stack's name ({request.StackName}) to delete it: ");
        return string.Equals(input.ReadLine()?.Trim(), request.StackName, StringComparison.Ordinal);
    }
}
