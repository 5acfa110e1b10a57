using System.Diagnostics;
using System.Reflection;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using Pipeline.Engine.Generation;
using Pipeline.Storage.Runs;
using Pipeline.Storage.Tests;

namespace Pipeline.Cli.Tests;

/// <summary>
/// The <c>pipeline</c> command as the README installs it (<c>dotnet publish Pipeline.Cli</c>): a program of its own,
/// precompiled, started through its link, talking to the emulators as a separate process.
/// </summary>
public sealed class InstalledCommandTests(InstalledCommand installed, LocalAwsFixture aws) : IClassFixture<InstalledCommand>, IClassFixture<LocalAwsFixture>
{
    [Fact]
    public async Task The_link_starts_the_published_program_and_it_prints_its_version()
    {
        Assert.Equal(installed.Program, new FileInfo(installed.Command).ResolveLinkTarget(returnFinalTarget: true)?.FullName);

        var version = await installed.RunAsync("--version");

        var built = typeof(PipelineCommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal((0, built, ""), (version.ExitCode, version.Out.Trim(), version.Error));
    }

    [Theory]
    [InlineData("pipeline.dll")]
    [InlineData("Pipeline.Storage.dll")]
    [InlineData("AWSSDK.Core.dll")]
    [InlineData("AWSSDK.DynamoDBv2.dll")]
    [InlineData("System.CommandLine.dll")]
    public void Its_code_and_the_AWS_SDK_are_precompiled_ReadyToRun(string assembly)
    {
        using var pe = new PEReader(File.OpenRead(Path.Combine(installed.Folder, assembly)));

        // A ReadyToRun image carries native code beside its IL: the CLI header's managed native header points at it.
        Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, $"{assembly} has no ReadyToRun code");
    }

    [Fact]
    public void It_leaves_out_the_native_Parquet_writer_only_Compute_uses()
    {
        Assert.True(File.Exists(Path.Combine(installed.Folder, "ParquetSharp.dll")), "the test looks in the wrong folder");
        Assert.Empty(Directory.GetFiles(installed.Folder, "ParquetSharpNative*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Publishing_the_command_as_an_image_leaves_the_installed_command_alone()
    {
        var project = Path.Combine(RepositoryFolder.Root, "Pipeline.Cli");
        async Task<string> PublishFolderAsync(params string[] properties)
        {
            var evaluated = await InstalledCommand.RunAsync("dotnet", ["msbuild", project, "-getProperty:PublishDir", .. properties], TimeSpan.FromMinutes(2));
            Assert.Equal(0, evaluated.ExitCode);
            return Path.GetFullPath(evaluated.Out.Trim().Replace('\\', '/'), project);
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(Path.Combine(home, ".local", "share", "pipeline") + "/", await PublishFolderAsync());
        // The image is self-contained for linux-x64: in the installed folder it would replace the command with one that cannot start.
        Assert.StartsWith(Path.Combine(project, "bin") + "/", await PublishFolderAsync("-p:PipelineContainer=true"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task It_submits_a_batch_and_shows_a_batch_status_on_the_emulators()
    {
        var folder = Directory.CreateTempSubdirectory("pipeline-installed-").FullName;
        try
        {
            SyntheticBatchGenerator.Generate(folder, new GeneratorOptions(100, Parts: 1, Seed: 3, Days: 2, Products: 20));

            var submitted = await installed.RunAsync(["submit", folder, "--batch", "installed-cli", .. Endpoints()]);

            Assert.Equal((0, ""), (submitted.ExitCode, submitted.Error));
            using (var summary = JsonDocument.Parse(submitted.Out))
            {
                Assert.Equal("data/installed-cli/manifest_installed-cli.json", summary.RootElement.GetProperty("manifest_key").GetString());
            }
            using var s3 = aws.CreateS3();
            Assert.NotNull(await s3.GetObjectMetadataAsync(aws.Topology.Bucket.Name, "data/installed-cli/manifest_installed-cli.json"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        using var dynamoDb = aws.CreateDynamoDb();
        await new PipelineRunStore(dynamoDb, aws.Topology, TimeProvider.System).BeginUploadAsync(
            new UploadStart("installed-cli", "data/installed-cli/manifest_installed-cli.json", "etag-1", "content-1", null, "cli", DateTimeOffset.UtcNow, "m1"),
            CancellationToken.None);

        var status = await installed.RunAsync(["status", "installed-cli", .. Endpoints()]);

        Assert.Equal((0, ""), (status.ExitCode, status.Error));
        Assert.StartsWith("batch installed-cli: nothing in force", status.Out, StringComparison.Ordinal);
        Assert.Contains("data/installed-cli/manifest_installed-cli.json (ETag etag-1)", status.Out, StringComparison.Ordinal);
    }

    private string[] Endpoints() => aws.Aws.CliEndpointArguments();
}

/// <summary>
/// The command installed once for the test class in a temporary folder, by the README's command with three additions:
/// this test build's configuration and <c>--no-dependencies</c>, so that it reuses the libraries <c>dotnet test</c>
/// built (only the command itself is compiled, then precompiled with them: under a minute), and the two places to install to.
/// </summary>
public sealed class InstalledCommand : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("pipeline-install-").FullName;

    /// <summary>The folder the program is published to.</summary>
    public string Folder => Path.Combine(_root, "share", "pipeline");

    /// <summary>The published program.</summary>
    public string Program => Path.Combine(Folder, "pipeline");

    /// <summary>The command a person types: the link in the bin folder.</summary>
    public string Command => Path.Combine(_root, "bin", "pipeline");

    public async Task InitializeAsync()
    {
        var configuration = typeof(InstalledCommand).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var project = Path.Combine(RepositoryFolder.Root, "Pipeline.Cli", "Pipeline.Cli.csproj");
        var publish = await RunAsync("dotnet", ["publish", project, "-c", configuration, "--no-dependencies", "--nologo",
            "-o", Folder, $"-p:PipelineBinDir={Path.GetDirectoryName(Command)}"], TimeSpan.FromMinutes(5));
        if (publish.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish Pipeline.Cli failed ({publish.ExitCode}):\n{publish.Out}\n{publish.Error}");
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Runs the installed command as a person would, through its link.</summary>
    public Task<CliRun> RunAsync(params string[] args) => RunAsync(Command, args, TimeSpan.FromMinutes(1));

    internal static async Task<CliRun> RunAsync(string fileName, IEnumerable<string> args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish within {timeout}");
        }
        return new CliRun(process.ExitCode, await output, await error);
    }
}
