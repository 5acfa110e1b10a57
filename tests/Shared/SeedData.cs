namespace Pipeline.Testing;

/// <summary>The original project's sample data, found by walking up from the test folder to <c>shared/seed-data</c>; null when absent.</summary>
public static class SeedData
{
    public static string? Directory { get; } = Find();

    private static string? Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "shared", "seed-data");
            if (File.Exists(Path.Combine(candidate, "products.csv")))
            {
                return candidate;
            }
        }
        return null;
    }
}
