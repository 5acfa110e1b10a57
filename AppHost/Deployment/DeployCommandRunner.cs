using System.Diagnostics;
using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AppHost.Deployment;

/// <summary>
/// Runs the deploy command (<c>dotnet run --project Deploy -- ...</c>) for a pipeline step, its output the step's log,
/// into the pipeline's output folder. Settings come from configuration: <c>Deploy:Settings:&lt;key&gt;</c> (the deploy
/// command's key=value settings), <c>Deploy:Profile</c>, <c>Deploy:Region</c>, <c>Deploy:BaseImage</c>,
/// <c>Deploy:Images</c>, for example <c>aspire deploy -- --Deploy:Settings:bucketName=acme-pipeline-data</c>.
/// </summary>
public sealed class DeployCommandRunner(string deployProject, IConfigurationSection configuration)
{
    /// <summary>The stack the settings name, for a prompt.</summary>
    public string StackDescription => configuration["Settings:stackName"] is { } name ? $"the stack {name}" : "the stack of the default settings";

    public async Task RunAsync(PipelineStepContext context, string command, params string[] options)
    {
        var output = context.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in Arguments(command, output, options))
        {
            start.ArgumentList.Add(argument);
        }
        context.Logger.LogInformation("dotnet {Arguments}", string.Join(' ', start.ArgumentList));

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        process.StandardInput.Close(); // not a terminal: destroy asks nothing, it refuses without --yes
        process.OutputDataReceived += (_, e) => Log(context, e.Data);
        process.ErrorDataReceived += (_, e) => Log(context, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"the deploy command exited with {process.ExitCode} (its output above; the plan is in {Path.Combine(output, "plan.txt")})");
        }
        context.Summary.Add("AWS plan", Path.Combine(output, "plan.txt"));
    }

    private IEnumerable<string> Arguments(string command, string output, string[] options)
    {
        string[] named =
            [.. Option("--profile", "Profile"), .. Option("--region", "Region"), .. Option("--base-image", "BaseImage"), .. Option("--images", "Images")];
        var settings = configuration.GetSection("Settings").GetChildren().Where(s => s.Value is not null).Select(s => $"{s.Key}={s.Value}");
        return ["run", "--project", deployProject, "--", command, "--out", output, .. options, .. named, .. settings];
    }

    private string[] Option(string name, string key) => configuration[key] is { Length: > 0 } value ? [name, value] : [];

    private static void Log(PipelineStepContext context, string? line)
    {
        if (line is not null)
        {
            context.ReportingStep.Log(LogLevel.Information, line);
        }
    }
}
