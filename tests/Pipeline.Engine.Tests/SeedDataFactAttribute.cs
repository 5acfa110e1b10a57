namespace Pipeline.Engine.Tests;

/// <summary>
/// The original project's sample data, found by walking up from the test binaries to a folder that
/// holds <c>shared/seed-data</c>. A fresh clone may not have it: then <see cref="Directory"/> is null
/// and the tests that need its facts are reported as skipped.
/// </summary>
public static class SeedData
{
    public static string? Directory { get; } = Find();

    private static string? Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, "shared", "seed-data");
            if (File.Exists(Path.Combine(candidate, "products.csv")))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>A fact that needs the seed data; skipped, with the reason shown, when it is absent.</summary>
public sealed class SeedDataFactAttribute : FactAttribute
{
    public SeedDataFactAttribute()
    {
        if (SeedData.Directory is null)
        {
            Skip = "shared/seed-data not found above the test folder; the seed facts cannot be checked here.";
        }
    }
}
