using System.Diagnostics;
using System.Globalization;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using Benchmarks;
using static Benchmarks.Figures;

namespace Pipeline.Cli.Benchmarks;

/// <summary>
/// Times the <c>pipeline</c> command as a person runs it, each run a new process from start to exit: <c>pipeline --version</c>
/// (start-up alone) and <c>pipeline status &lt;batch&gt;</c> against the running AppHost's emulators (start-up, the AWS
/// client, one DynamoDB query; target: median at most 1 s). Several commands can be compared (<c>--pipeline</c> repeated):
/// the installed one, the build output run by <c>dotnet</c>, a Native AOT build, <c>dotnet run --project Pipeline.Cli --</c>.
/// </summary>
internal static partial class StartupBenchmark
{
    private static readonly TimeSpan StatusTarget = TimeSpan.FromSeconds(1);

    /// <param name="args">
    /// <c>[--pipeline "COMMAND [ARGS]"]... [--runs N] [--batch NAME] [--endpoint URL] [--dynamodb-endpoint URL]</c>; without
    /// <c>--pipeline</c>, the installed command: <c>pipeline</c> on the PATH, else <c>~/.local/bin/pipeline</c>.
    /// </param>
    public static async Task<int> RunAsync(string[] args)
    {
        var commands = Values(args, "--pipeline").Select(c => c.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        if (commands.Count == 0)
        {
            commands.Add([PipelineCommand.Installed()]);
        }
        var runs = int.Parse(Values(args, "--runs").LastOrDefault() ?? "10", CultureInfo.InvariantCulture);
        string[] endpoints = [.. new[] { "--endpoint", "--dynamodb-endpoint" }.SelectMany(o => Values(args, o).SelectMany(v => new[] { o, v }))];

        Console.WriteLine($"pipeline command start-up, {runs} runs each, every run a new process; {Environment.ProcessorCount} cores");
        Console.WriteLine($"load average before start: {LoadAverage()}");
        var batch = Values(args, "--batch").LastOrDefault() ?? await SomeBatchAsync(commands[0], endpoints);
        if (batch is null)
        {
            return 1;
        }

        Console.WriteLine($"timing `pipeline --version` and `pipeline status {batch}`");
        var met = true;
        foreach (var command in commands)
        {
            Console.WriteLine();
            Console.WriteLine($"{string.Join(' ', command)}: {Describe(command)}");
            var version = await TimeAsync(command, ["--version"], runs);
            Report("pipeline --version", version);
            var status = await TimeAsync(command, ["status", batch, .. endpoints], runs);
            var statusMet = status is not null && Median(status) <= StatusTarget;
            Report("pipeline status <batch>", status, $"target at most {StatusTarget.TotalSeconds:F0} s: {(statusMet ? "met" : "MISSED")}");
            met &= statusMet || command != commands[0];
        }
        Console.WriteLine();
        Console.WriteLine($"load average at the end: {LoadAverage()}");
        return met ? 0 : 2;
    }

    /// <summary>Times <paramref name="runs"/> runs after one untimed run (the file cache); null, with its error shown, when a run fails.</summary>
    private static async Task<List<TimeSpan>?> TimeAsync(string[] command, string[] args, int runs)
    {
        var times = new List<TimeSpan>();
        for (var i = 0; i <= runs; i++)
        {
            var run = await PipelineCommand.RunAsync(command, args);
            if (run.ExitCode != 0)
            {
                Console.WriteLine($"  {string.Join(' ', args)}: exit code {run.ExitCode}: {run.Error.Trim()}");
                return null;
            }
            if (i > 0)
            {
                times.Add(run.Elapsed);
            }
        }
        return times;
    }

    private static void Report(string what, List<TimeSpan>? times, string verdict = "")
    {
        if (times is not null)
        {
            Console.WriteLine($"  {what,-24} median {Median(times).TotalSeconds,6:F3} s  (min {times.Min().TotalSeconds:F3}, " +
                $"max {times.Max().TotalSeconds:F3})  load {LoadAverage()}  {verdict}");
        }
    }

    /// <summary>The batch the status runs show: the most recent one, or one submitted now (a small generated batch) when there is none.</summary>
    private static async Task<string?> SomeBatchAsync(string[] command, string[] endpoints)
    {
        var recent = await PipelineCommand.RunAsync(command, ["status", "--last", "1", .. endpoints]);
        if (recent.ExitCode != 0)
        {
            Console.Error.WriteLine($"pipeline status failed: {recent.Error.Trim()}");
            return null;
        }
        if (recent.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).FirstOrDefault() is { } row)
        {
            return row.Split(' ')[0];
        }

        var now = DateTimeOffset.UtcNow;
        var name = $"cli-benchmark-{now:yyyyMMddHHmmss}";
        var folder = Directory.CreateTempSubdirectory("pipeline-cli-benchmark-").FullName;
        try
        {
            // Ids of its own: an order id is counted in one batch only.
            var idOffset = (now.ToUnixTimeSeconds() * 1_000_000).ToString(CultureInfo.InvariantCulture);
            var generated = await PipelineCommand.RunAsync(command, ["generate", folder, "--orders", "1000", "--days", "3", "--id-offset", idOffset]);
            var submitted = generated.ExitCode == 0 ? await PipelineCommand.RunAsync(command, ["submit", folder, "--batch", name, .. endpoints]) : generated;
            if (submitted.ExitCode != 0)
            {
                Console.Error.WriteLine($"could not submit a batch to time `pipeline status` on: {submitted.Error.Trim()}");
                return null;
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            var status = await PipelineCommand.RunAsync(command, ["status", name, .. endpoints]);
            if (status.ExitCode == 0 && RunStatus().Match(status.Out) is { Success: true } match && match.Groups["status"].Value != "Running")
            {
                Console.WriteLine($"no batch yet: submitted {name} (1,000 orders), {match.Groups["status"].Value} after {clock.Elapsed.TotalSeconds:F1} s");
                return name;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
        Console.Error.WriteLine($"{name} did not finish within 2 minutes: are the services running?");
        return null;
    }

    /// <summary>How the command runs: a program, precompiled or not, or Native AOT (no assembly beside it); or through another tool.</summary>
    private static string Describe(string[] command)
    {
        var file = new FileInfo(command[0]);
        if (command.Length > 1 || !file.Exists)
        {
            return $"through {command[0]}";
        }
        var program = file.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? file.FullName;
        var assembly = Path.ChangeExtension(program, ".dll");
        if (!File.Exists(assembly))
        {
            return $"{program}, Native AOT";
        }
        using var pe = new PEReader(File.OpenRead(assembly));
        var readyToRun = pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0;
        return $"{program}, {(readyToRun ? "ReadyToRun" : "IL only, compiled by the JIT at start")}";
    }

    private static IEnumerable<string> Values(string[] args, string option) =>
        args.Select((arg, i) => (arg, i)).Where(a => a.arg == option && a.i + 1 < args.Length).Select(a => args[a.i + 1]);

    [GeneratedRegex(@"^status\s+(?<status>\w+)", RegexOptions.Multiline)]
    private static partial Regex RunStatus();
}
