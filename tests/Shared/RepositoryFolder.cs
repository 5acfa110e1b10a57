namespace Pipeline.Testing;

/// <summary>
/// The clone the tests were built in: the folder above the test build that holds Distributed.sln. One file, linked into
/// each project that needs it.
/// </summary>
public static class RepositoryFolder
{
    /// <summary>The clone's root, or null when the tests run outside one (a copied build).</summary>
    public static string? Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Distributed.sln")))
            {
                return folder.FullName;
            }
        }
        return null;
    }

    /// <summary>The clone's root.</summary>
    /// <exception cref="InvalidOperationException">The tests run outside a clone.</exception>
    public static string Root => Find() ?? throw new InvalidOperationException($"No Distributed.sln above {AppContext.BaseDirectory}.");
}
