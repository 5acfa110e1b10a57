using System.Diagnostics;

namespace Deploy.Tests;

/// <summary>One run of an external tool (cfn-lint, cfn-guard, dotnet), its output and errors read to the end.</summary>
internal sealed record ToolRun(int ExitCode, string Output, string Errors)
{
    public static async Task<ToolRun> RunAsync(string fileName, IEnumerable<string> arguments, string? workingDirectory = null,
        TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? "",
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(4));
        await process.WaitForExitAsync(deadline.Token);
        return new ToolRun(process.ExitCode, await output, await errors);
    }

    public static ToolRun Run(string fileName, IEnumerable<string> arguments, string? workingDirectory = null) =>
        RunAsync(fileName, arguments, workingDirectory).GetAwaiter().GetResult();
}
