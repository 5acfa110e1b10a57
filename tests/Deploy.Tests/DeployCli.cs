using System.Diagnostics;

namespace Deploy.Tests;

/// <summary>
/// The deploy command run as a user runs it, as its own process, in an environment without AWS credentials: no AWS_*
/// variables, a home without ~/.aws, no instance metadata. Tests add what they mean to give it (a region, an endpoint,
/// credentials for an emulator) and may leave the container engines off its PATH. Standard input is closed: not a terminal.
/// </summary>
public sealed class DeployCli : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("deploy-cli-tests-");

    public DeployCli()
    {
        Directory.CreateDirectory(Home);
        Directory.CreateDirectory(Temp);
    }

    /// <summary>A folder of the test's own, outside the repository (deleted afterwards).</summary>
    public string Folder => _root.FullName;

    public string Output => Path.Combine(Folder, "out");

    private string Home => Path.Combine(Folder, "home");

    private string Temp => Path.Combine(Folder, "tmp");

    /// <summary>
    /// Image archives that are not images: enough for synthesis, which only copies and hashes them (building the five real
    /// ones takes minutes).
    /// </summary>
    public string PlaceholderImages()
    {
        var folder = Path.Combine(Folder, "images");
        Directory.CreateDirectory(folder);
        foreach (var service in Cli.ImageBuilder.Services)
        {
            File.WriteAllText(Path.Combine(folder, WorkerImages.ArchiveFileName(service)), $"placeholder for {service}");
        }
        return folder;
    }

    /// <summary>A PATH with Node.js and npm but neither docker nor podman.</summary>
    public string PathWithoutContainerEngines()
    {
        var bin = Path.Combine(Folder, "bin");
        Directory.CreateDirectory(bin);
        foreach (var tool in new[] { "node", "npm" })
        {
            var target = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException($"{tool} is not on PATH");
            var link = Path.Combine(bin, tool);
            if (!File.Exists(link))
            {
                File.CreateSymbolicLink(link, target);
            }
        }
        return bin;
    }

    /// <summary>Runs the deploy command (the build in this test's output) with <paramref name="arguments"/>.</summary>
    public Task<(int ExitCode, string Output)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        RunDotnetAsync(environment, Environment.CurrentDirectory, [Path.Combine(AppContext.BaseDirectory, "Deploy.dll"), .. arguments]);

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>, in this class's environment.</summary>
    public async Task<(int ExitCode, string Output)> RunDotnetAsync(
        IReadOnlyDictionary<string, string> environment, string workingDirectory, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(ToolRun.Dotnet, arguments) { WorkingDirectory = workingDirectory };
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal) || k == "CDK_DOCKER").ToList())
        {
            start.Environment.Remove(name);
        }
        start.Environment["HOME"] = Home;
        start.Environment["TMPDIR"] = Temp; // jsii unpacks itself there
        start.Environment["AWS_CONFIG_FILE"] = Path.Combine(Home, "no-aws-config");
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(Home, "no-aws-credentials");
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var run = await ToolRun.RunAsync(start);
        return (run.ExitCode, run.Output + run.Errors);
    }

    public void Dispose()
    {
        try
        {
            _root.Delete(recursive: true);
        }
        catch (IOException)
        {
            // jsii's node process may still hold a file for a moment; the folder is ours alone.
        }
    }
}
