using Pipeline.Cli;
using Pipeline.Storage.Tests;

// The commands write to Console.Out and Console.Error, which a test swaps for its own writers: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Pipeline.Cli.Tests;

/// <summary>One in-process run of the <c>pipeline</c> command: exit code, stdout and stderr.</summary>
public sealed record CliRun(int ExitCode, string Out, string Error)
{
    /// <summary>A run against the fixture's emulators: <paramref name="args"/> and their endpoints.</summary>
    public static Task<CliRun> RunAsync(LocalAwsFixture aws, params string[] args) =>
        RunAsync([.. args, "--endpoint", aws.Aws.ServiceUrl!.ToString(), "--dynamodb-endpoint", aws.Aws.ServiceUrls["DynamoDB"].ToString()]);

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
