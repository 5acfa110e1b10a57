namespace Deploy.Cli;

/// <summary>
/// Where things are: the repository the deploy command builds from (every command it runs, runs there, so the paths it
/// prints are the paths it uses) and the output folder with what a deployment produces.
/// </summary>
public sealed class Workspace
{
    public Workspace(string repositoryRoot, string output)
    {
        RepositoryRoot = Path.GetFullPath(repositoryRoot);
        Output = Path.GetFullPath(output);
    }

    public string RepositoryRoot { get; }

    /// <summary>The output folder: the plan, the image archives, the cloud assembly, the stack's outputs.</summary>
    public string Output { get; }

    /// <summary>The plan as printed, steps and exact commands (also written by a dry run).</summary>
    public string PlanFile => Path.Combine(Output, "plan.txt");

    /// <summary>The service images as the SDK writes them (<c>pipeline-&lt;service&gt;.tar</c>).</summary>
    public string Images => Path.Combine(Output, "images");

    /// <summary>The CDK cloud assembly: the template, the asset manifest and the staged image archives.</summary>
    public string CloudAssembly => Path.Combine(Output, "cdk.out");

    /// <summary>The stack's outputs as the CDK CLI writes them after a deployment.</summary>
    public string OutputsFile => Path.Combine(Output, "outputs.json");

    /// <summary>The CDK CLI's npm package (pinned in its package-lock.json).</summary>
    public string CdkPackage => Path.Combine(RepositoryRoot, "Deploy", "cdk");

    public string CdkExecutable => Path.Combine(CdkPackage, "node_modules", ".bin", "cdk");

    /// <summary>A path as the commands name it: relative to the repository when inside it, else absolute.</summary>
    public string Display(string path)
    {
        var relative = Path.GetRelativePath(RepositoryRoot, Path.GetFullPath(path));
        return relative == "." ? "." : relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? Path.GetFullPath(path) : relative;
    }

    /// <summary>The repository above this program's build output (or above the current folder): the one with Distributed.sln.</summary>
    public static string FindRepositoryRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "Distributed.sln")))
                {
                    return folder.FullName;
                }
            }
        }
        throw new InvalidOperationException(
            $"no Distributed.sln above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}: run the deploy command from the repository");
    }
}
