using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3.Model;
using Benchmarks;
using Emulators;
using Pipeline.Engine.Batches;
using Pipeline.Storage.Batches;
using ServiceDefaults.Aws;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>
/// The engine's own time on a version's archived files in S3, as a command that starts for it pays it: a process of its
/// own (this program again, with the command's runtime settings) whose engine has never run, reading the files through
/// <see cref="S3BatchStore"/> as <c>pipeline reconcile</c> does. Only the engine is timed: the child first makes one S3
/// request, so that starting the AWS SDK is not counted.
/// </summary>
internal static class ColdEngine
{
    private const string ChildCommand = "cold-engine";

    /// <summary>The runtime settings the pipeline command runs with (Pipeline.Cli.csproj), so that the engine runs as it does there.</summary>
    private static readonly Dictionary<string, string> CommandRuntime = new()
    {
        ["DOTNET_TieredPGO"] = "0",
        ["DOTNET_gcServer"] = "0",
        ["DOTNET_gcConcurrent"] = "0",
    };

    /// <summary>Runs the child on <paramref name="files"/>; the engine's seconds and the rows it read.</summary>
    public static async Task<(TimeSpan Elapsed, long Rows)> RunAsync(RunningPipeline pipeline, string bucket, IReadOnlyList<BatchObject> files)
    {
        var list = Path.Combine(Path.GetTempPath(), $"pipeline-bench-cold-engine-{Environment.ProcessId}.json");
        await File.WriteAllTextAsync(list, JsonSerializer.Serialize(files));
        try
        {
            var self = Path.Combine(AppContext.BaseDirectory, "Pipeline.EndToEnd.Benchmarks");
            var run = await PipelineCommand.RunAsync([self], [ChildCommand, pipeline.Aws.EndpointFor("S3")!.ToString(), bucket, list], CommandRuntime);
            var figures = run.ExitCode == 0
                ? run.Out.Trim().Split('\n')[^1].Split(' ')
                : throw new InvalidOperationException($"the engine's child process failed ({run.ExitCode}): {run.Error}");
            return (TimeSpan.FromSeconds(double.Parse(figures[0], CultureInfo.InvariantCulture)), long.Parse(figures[1], CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(list);
        }
    }

    /// <summary>The child's command: prints "seconds rows".</summary>
    public static Command Child()
    {
        var endpoint = new Argument<string>("s3-endpoint");
        var bucket = new Argument<string>("bucket");
        var list = new Argument<FileInfo>("files-json");
        var command = new Command(ChildCommand, "(the benchmark's own child) the engine on archived files in S3, timed") { endpoint, bucket, list };
        command.Hidden = true;
        command.SetAction(async (result, cancellationToken) =>
        {
            var aws = new AwsOptions { ServiceUrl = new Uri(result.GetValue(endpoint)!) };
            using var s3 = AwsClientFactory.CreateS3(aws, new BasicAWSCredentials(EmulatorInstallation.AccessKeyId, EmulatorInstallation.SecretAccessKey));
            var files = JsonSerializer.Deserialize<List<BatchObject>>(await File.ReadAllTextAsync(result.GetValue(list)!.FullName, cancellationToken))!;
            var name = result.GetValue(bucket)!;
            await s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = name, Key = files[0].Key }, cancellationToken);
            var clock = Stopwatch.StartNew();
            var processed = new BatchProcessor().Process(new S3BatchStore(s3).ToEngineInput(name, files), cancellationToken: cancellationToken);
            Console.WriteLine(FormattableString.Invariant($"{clock.Elapsed.TotalSeconds} {processed.Report.RowsRead}"));
        });
        return command;
    }
}
