namespace Pipeline.Testing;

/// <summary>
/// The original project's sample data: <c>shared/seed-data</c> beside a folder above the test (or benchmark) binaries
/// or the working folder. A fresh clone may not have it: then <see cref="Directory"/> is null, and what needs its
/// facts says it is skipped or uses generated data. One file, linked into each project that needs it.
/// </summary>
public static class SeedData
{
    public static string? Directory { get; } =
        new[] { AppContext.BaseDirectory, Environment.CurrentDirectory }
            .SelectMany(start => Ancestors(new DirectoryInfo(start)))
            .Select(folder => Path.Combine(folder.FullName, "shared", "seed-data"))
            .FirstOrDefault(candidate => File.Exists(Path.Combine(candidate, "products.csv")));

    private static IEnumerable<DirectoryInfo> Ancestors(DirectoryInfo? folder)
    {
        for (; folder is not null; folder = folder.Parent)
        {
            yield return folder;
        }
    }
}
