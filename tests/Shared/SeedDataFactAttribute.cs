namespace Pipeline.Testing;

/// <summary>A fact that needs the seed data; skipped, with the reason shown, when it is absent. One file, linked like <see cref="SeedData"/>.</summary>
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
