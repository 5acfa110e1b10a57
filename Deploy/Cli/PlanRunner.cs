using System.Diagnostics;
using System.Text;

namespace Deploy.Cli;

/// <summary>How a step ended: on, or stopped with an exit code and a reason.</summary>
public sealed record StepResult(int ExitCode, string? Reason = null)
{
    public static readonly StepResult Done = new(ExitCodes.Succeeded);

    public bool Succeeded => ExitCode == ExitCodes.Succeeded;
}

/// <summary>
/// One step of a plan: its title, what it will run (described when the step starts, from what the steps before it
/// found), and the work. <see cref="InDryRun"/>: a dry run runs it too (checks, images, the template: nothing in AWS).
/// </summary>
public sealed record PlanStep(string Title, Func<IEnumerable<string>> Describe, Func<PlanRunner, CancellationToken, Task<StepResult>> Run)
{
    public bool InDryRun { get; init; }
}

/// <summary>
/// Runs a plan's steps in order, numbered, each with its exact commands, or only prints them in a dry run. The plan's
/// lines (not the commands' own output) are also written to the output folder's plan.txt.
/// </summary>
public sealed class PlanRunner(Workspace workspace, TextWriter console, bool dryRun)
{
    public const string Indent = "      ";

    private readonly StringBuilder _plan = new();

    public bool DryRun => dryRun;

    /// <summary>Where the commands' own output goes (the console only).</summary>
    public TextWriter Console => console;

    /// <summary>A line of the plan: on the console and in plan.txt.</summary>
    public void Line(string line)
    {
        console.WriteLine(line);
        _plan.AppendLine(line);
    }

    public async Task<int> RunAsync(string heading, IReadOnlyList<PlanStep> steps, CancellationToken cancellationToken)
    {
        Line(heading + (dryRun ? " (dry run: every step printed; only the checks, the images and the template are made; nothing in AWS is touched)" : ""));
        Line($"Commands run in {workspace.RepositoryRoot}; output folder {workspace.Display(workspace.Output)}.");
        Directory.CreateDirectory(workspace.Output);
        try
        {
            foreach (var (step, number) in steps.Select((s, i) => (s, i + 1)))
            {
                Line("");
                Line($"[{number}/{steps.Count}] {step.Title}");
                foreach (var line in step.Describe())
                {
                    Line(Indent + line);
                }
                if (dryRun && !step.InDryRun)
                {
                    continue;
                }
                var watch = Stopwatch.StartNew();
                var result = await step.Run(this, cancellationToken);
                if (!result.Succeeded)
                {
                    Line($"{Indent}stopped: {result.Reason}");
                    return result.ExitCode;
                }
                console.WriteLine($"{Indent}({ExternalCommand.Elapsed(watch.Elapsed)})");
            }
            return ExitCodes.Succeeded;
        }
        finally
        {
            await File.WriteAllTextAsync(workspace.PlanFile, _plan.ToString(), CancellationToken.None);
        }
    }

    /// <summary>Runs a command of the current step, its output indented; a failure stops the plan with its exit code.</summary>
    public async Task<StepResult> RunCommandAsync(ExternalCommand command, CancellationToken cancellationToken)
    {
        var exit = await command.RunAsync(console, Indent + "  ", cancellationToken);
        return exit == 0 ? StepResult.Done : new StepResult(ExitCodes.Failed, $"{command.FileName} {command.Arguments[0]} exited with {exit}");
    }
}

/// <summary>Exit codes scripts can rely on.</summary>
public static class ExitCodes
{
    public const int Succeeded = 0;
    public const int Failed = 1;

    /// <summary>A check before the start failed: nothing was built, deployed or deleted.</summary>
    public const int PrerequisitesMissing = 2;

    public const int Usage = 64;
}
