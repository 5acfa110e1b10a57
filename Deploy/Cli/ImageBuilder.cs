using Pipeline.Topology;
using Pipeline.Topology.Access;

namespace Deploy.Cli;

/// <summary>
/// The five service images and the <c>pipeline</c> command's (which the reconciliation task runs), built by the .NET SDK from
/// the projects (no Dockerfile: <c>dotnet publish /t:PublishContainer</c>
/// with ServiceContainer.targets' settings) into archives, <c>pipeline-&lt;service&gt;.tar</c>, that synthesis turns
/// into image assets. <c>--base-image</c> replaces Microsoft's runtime-deps base where its registry cannot be reached.
/// </summary>
public sealed class ImageBuilder(Workspace workspace, string? baseImage)
{
    /// <summary>Every image that runs in ECS: the four workers, the dashboard, and the command (<see cref="ReconciliationTask.CliImage"/>).</summary>
    public static IReadOnlyList<string> Services { get; } = Names();

    public ExternalCommand Command(string service, string archiveFolder)
    {
        var project = service == ReconciliationTask.CliImage ? "Pipeline.Cli" : ServiceTask.ProjectName(service);
        List<string> arguments =
        [
            "publish", Path.Combine(project, $"{project}.csproj"), "-c", "Release", "--nologo", "/t:PublishContainer",
            // Absolute: MSBuild resolves a relative path against the project's folder, not the folder the command runs in.
            $"-p:ContainerArchiveOutputPath={Path.GetFullPath(Path.Combine(archiveFolder, WorkerImages.ArchiveFileName(service)))}",
            // A Docker archive (manifest.json with the image's name), which every docker and podman loads; the SDK would
            // otherwise write an OCI layout on an OCI base, which the classic Docker engine cannot load.
            "-p:ContainerImageFormat=Docker",
        ];
        if (service == ReconciliationTask.CliImage)
        {
            // Pipeline.Cli publishes as a container (ServiceContainer.targets) only when asked: otherwise it installs the command.
            arguments.Add("-p:PipelineContainer=true");
        }
        if (baseImage is not null)
        {
            arguments.Add($"-p:ContainerBaseImage={baseImage}");
        }
        return new ExternalCommand("dotnet", arguments, workspace.RepositoryRoot);
    }

    private static string[] Names()
    {
        var services = new PipelineServices(new PipelineTopology());
        return [.. services.All.Select(s => s.Name), services.Dashboard.Name, ReconciliationTask.CliImage];
    }
}
