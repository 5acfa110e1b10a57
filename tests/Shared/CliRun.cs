using Pipeline.Cli;

namespace Pipeline.Testing;

/// <summary>
/// One in-process run of the <c>pipeline</c> command: exit code, stdout and stderr. The commands write to
/// <see cref="Console"/>, which a run swaps for writers of its own: runs must not overlap. Linked into the projects that
/// run the command (the <c>Pipeline.Cli</c> internals are visible to each).
/// </summary>
public sealed partial record CliRun(int ExitCode, string Out, string Error)
{
    public static async Task<CliRun> RunAsync(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var (savedOut, savedError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var exitCode = await PipelineCommandLine.InvokeAsync(args);
            return new CliRun(exitCode, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(savedOut);
            Console.SetError(savedError);
        }
    }
}
