using System.CommandLine;
using System.CommandLine.Invocation;
using Pipeline.Cli.Commands;

namespace Pipeline.Cli;

/// <summary>The <c>pipeline</c> command tree. A new subcommand is one more line in <see cref="Create"/>.</summary>
internal static class PipelineCommandLine
{
    public static RootCommand Create() => new("Validate order batches, compute their KPIs and generate test data.")
    {
        new ProcessCommand(),
        new GenerateCommand(),
        new SubmitCommand(),
        new StatusCommand(),
        new RetractCommand(),
        new KpisCommand(),
        new DlqCommand(),
        new SmokeCommand(),
        new ReconcileCommand(),
        new RebuildCommand(),
    };

    /// <summary>Runs the command line; a usage error is one line on stderr and exit code 1.</summary>
    public static Task<int> InvokeAsync(string[] args)
    {
        ParseResult parsed = Create().Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            Console.Error.WriteLine($"pipeline: {parsed.Errors[0].Message} (see --help)");
            return Task.FromResult(ExitCodes.Failed);
        }

        return parsed.InvokeAsync();
    }
}
