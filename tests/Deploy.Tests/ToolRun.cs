using System.Diagnostics;

namespace Deploy.Tests;

/// <summary>One run of an external tool (cfn-lint, cfn-guard, dotnet), its output and errors read to the end.</summary>
internal sealed record ToolRun(int ExitCode, string Output, string Errors)
{
    /// <summary>The dotnet host running these tests (the one on the PATH otherwise).</summary>
    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static Task<ToolRun> RunAsync(string fileName, IEnumerable<string> arguments, string? workingDirectory = null,
        TimeSpan? timeout = null) =>
        RunAsync(new ProcessStartInfo(fileName, arguments) { WorkingDirectory = workingDirectory ?? "" }, timeout);

    /// <summary>Runs <paramref name="start"/> (its environment as the caller set it) with no input.</summary>
    public static async Task<ToolRun> RunAsync(ProcessStartInfo start, TimeSpan? timeout = null)
    {
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(4));
        await process.WaitForExitAsync(deadline.Token);
        return new ToolRun(process.ExitCode, await output, await errors);
    }

    public static ToolRun Run(string fileName, IEnumerable<string> arguments, string? workingDirectory = null) =>
        RunAsync(fileName, arguments, workingDirectory).GetAwaiter().GetResult();
}
