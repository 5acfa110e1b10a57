namespace Deploy.Cli;

/// <summary>What the user asked for on the command line: the settings (as typed, and parsed) and the options.</summary>
public sealed record DeploymentRequest(Workspace Workspace, DeploySettings Settings, IReadOnlyList<string> SettingArguments)
{
    public bool DryRun { get; init; }

    /// <summary>destroy: do not ask.</summary>
    public bool Yes { get; init; }

    /// <summary>deploy: a folder with the image archives already built (then nothing is built).</summary>
    public string? Images { get; init; }

    /// <summary>deploy: the base image instead of Microsoft's runtime-deps (ContainerBaseImage).</summary>
    public string? BaseImage { get; init; }

    public AwsTarget Target { get; init; } = new(null, null);

    public string StackName => Settings.StackName;

    /// <summary>The synth command that writes the same template as this request's synthesis step.</summary>
    public ExternalCommand SynthCommand(string? images) => new("dotnet",
        [
            "run", "--project", "Deploy", "--", "synth", "--out", Workspace.Display(Workspace.CloudAssembly),
            .. images is null ? Array.Empty<string>() : ["--images", Workspace.Display(images)],
            .. SettingArguments,
        ],
        Workspace.RepositoryRoot);
}
