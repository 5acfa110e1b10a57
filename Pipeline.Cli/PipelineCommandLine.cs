using System.CommandLine;
using Pipeline.Cli.Commands;

namespace Pipeline.Cli;

/// <summary>The <c>pipeline</c> command tree. A new subcommand is one more line here.</summary>
internal static class PipelineCommandLine
{
    public static RootCommand Create() => new("Validate order batches, compute their KPIs and generate test data.")
    {
        new ProcessCommand(),
        new GenerateCommand(),
    };
}
