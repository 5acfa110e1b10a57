using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>
/// The tags ServiceContainer.targets gives each service image, as MSBuild computes them for <c>dotnet publish /t:PublishContainer</c>:
/// exactly one, the version and the commit, which the image's revision label names in full. A second, moving tag such as
/// <c>latest</c> cannot be pushed twice to an immutable ECR repository (the second release's push of it fails), and says
/// nothing about what runs.
/// </summary>
public sealed partial class ImageTagTests
{
    [Theory]
    [InlineData("Validate")]
    [InlineData("Transform")]
    [InlineData("Compute")]
    [InlineData("Notifier")]
    [InlineData("Dashboard")]
    public async Task Each_image_gets_exactly_one_tag_the_version_and_the_commit_its_revision_label_names(string service)
    {
        var (properties, labels) = await ContainerConfigAsync(service);

        Assert.Equal(WorkerImages.ImageName(service.ToLowerInvariant()), properties["ContainerRepository"]);
        var tags = properties["ContainerImageTags"].Split(';', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(tags);
        Assert.Matches(VersionAndCommit(), tags[0]);
        Assert.True(labels.TryGetValue("org.opencontainers.image.revision", out var revision), $"no revision label: {string.Join(", ", labels.Keys)}");
        Assert.Equal($"1.0.0-{revision[..12]}", tags[0]);
    }

    [GeneratedRegex(@"^1\.0\.0-[0-9a-f]{12}$")]
    private static partial Regex VersionAndCommit();

    /// <summary>
    /// The image's properties and labels as the SDK computes them for <c>dotnet publish /t:PublishContainer</c>
    /// (<c>dotnet msbuild -getProperty -getItem</c>).
    /// </summary>
    private static async Task<(Dictionary<string, string> Properties, Dictionary<string, string> Labels)> ContainerConfigAsync(string service)
    {
        var project = Path.Combine(RepositoryFolder.Root, $"Services.{service}", $"Services.{service}.csproj");
        var msbuild = await ToolRun.RunAsync(ToolRun.Dotnet, ["msbuild", project, "-nologo", "-t:ComputeContainerConfig", "-getProperty:ContainerImageTags",
            "-getProperty:ContainerRepository", "-getItem:ContainerLabel"], timeout: TimeSpan.FromMinutes(2));
        Assert.True(msbuild.ExitCode == 0, $"dotnet msbuild failed ({msbuild.ExitCode}):\n{msbuild.Output}{msbuild.Errors}");
        var json = JsonNode.Parse(msbuild.Output)!;
        return (json["Properties"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!),
            json["Items"]!["ContainerLabel"]!.AsArray().ToDictionary(l => (string)l!["Identity"]!, l => (string)l!["Value"]!));
    }
}
