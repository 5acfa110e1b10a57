using System.Diagnostics;

namespace Benchmarks;

/// <summary>The <c>pipeline</c> command as a person runs it: each run a new process, timed from its start to its exit.</summary>
internal static class PipelineCommand
{
    /// <summary>The installed command (<c>dotnet publish Pipeline.Cli</c>): <c>pipeline</c> on the PATH, else <c>~/.local/bin/pipeline</c>.</summary>
    public static string Installed()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(folder => Path.Combine(folder, "pipeline"))
            .FirstOrDefault(File.Exists);
        return onPath ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "bin", "pipeline");
    }

    /// <param name="command">The program and the arguments that come before <paramref name="args"/> (for example <c>dotnet run --</c>).</param>
    /// <param name="environment">Variables set for the process on top of this one's.</param>
    public static async Task<Run> RunAsync(string[] command, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(command[0], [.. command.Skip(1), .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var elapsed = clock.Elapsed;
        return new Run(process.ExitCode, await output, await error, elapsed);
    }

    public sealed record Run(int ExitCode, string Out, string Error, TimeSpan Elapsed);
}
