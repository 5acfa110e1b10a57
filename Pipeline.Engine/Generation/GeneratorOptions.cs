namespace Pipeline.Engine.Generation;

/// <summary>What to generate: <see cref="Orders"/> orders split into <see cref="Parts"/> parts per table.</summary>
public sealed record GeneratorOptions(long Orders, int Parts = 4, ulong Seed = 42, int Days = 31, int Products = 10_000)
{
    /// <summary>The first order date; the seed data starts here too.</summary>
    public DateOnly FirstDay { get; init; } = new(2025, 3, 8);

    public void Validate()
    {
        if (Orders < 0 || Parts < 1 || Days < 1 || Products < 1)
        {
            throw new ArgumentException("orders must be >= 0; parts, days and products must be >= 1.");
        }
    }
}

/// <summary>What was written.</summary>
public sealed record GenerationSummary(long Products, long Orders, long Items, long Bytes);
