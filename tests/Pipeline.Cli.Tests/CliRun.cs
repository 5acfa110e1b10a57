using Pipeline.Storage.Tests;

// The commands write to Console.Out and Console.Error, which a test swaps for its own writers: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Pipeline.Testing;

public sealed partial record CliRun
{
    /// <summary>A run against the fixture's emulators: <paramref name="args"/> and their endpoints.</summary>
    public static Task<CliRun> RunAsync(LocalAwsFixture aws, params string[] args) =>
        RunAsync([.. args, .. aws.Aws.CliEndpointArguments()]);
}
