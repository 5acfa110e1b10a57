using Pipeline.Engine.Csv;

namespace Pipeline.Engine.Generation;

/// <summary>What to generate: <see cref="Orders"/> orders split into <see cref="Parts"/> parts per table.</summary>
public sealed record GeneratorOptions(long Orders, int Parts = 4, ulong Seed = 42, int Days = 31, int Products = 10_000)
{
    /// <summary>The first order date; the seed data starts here too.</summary>
    public DateOnly FirstDay { get; init; } = new(2025, 3, 8);

    /// <summary>
    /// Order ids and order item ids start right after this (1 and 1 by default). Batches meant to be counted
    /// together need ids of their own: an order already counted in another batch is refused.
    /// </summary>
    public long IdOffset { get; init; }

    /// <summary>
    /// The category names products are drawn from, each product's department named after its category; null for the
    /// seed data's seven (Beauty, Books, ...). Names are written unquoted, so none may contain a comma, a quote or a line break.
    /// </summary>
    public IReadOnlyList<string>? Categories { get; init; }

    /// <summary>How the files are stored: plain <c>.csv</c> (the default), <c>.csv.gz</c> or <c>.csv.zst</c>.</summary>
    public PartCompression Compression { get; init; }

    /// <summary>The longest category name <see cref="Categories"/> may give (the pipeline's default limit).</summary>
    public const int MaxCategoryChars = 100;

    public void Validate()
    {
        if (Orders < 0 || Parts < 1 || Days < 1 || Products < 1 || IdOffset < 0)
        {
            throw new ArgumentException("orders and the id offset must be >= 0; parts, days and products must be >= 1.");
        }
        if (Categories is { } categories && (categories.Count == 0 || categories.Any(c => !IsPlainCategory(c))))
        {
            throw new ArgumentException(
                $"categories must be at least one name of 1 to {MaxCategoryChars} characters without a comma, a quote or a line break.");
        }
    }

    /// <summary>Whether <paramref name="category"/> can be written as it is: 1 to 100 characters, no comma, quote or line break.</summary>
    public static bool IsPlainCategory(string category) =>
        category.Length is > 0 and <= MaxCategoryChars && category.AsSpan().IndexOfAny(",\"\r\n") < 0;
}

/// <summary>What was written.</summary>
public sealed record GenerationSummary(long Products, long Orders, long Items, long Bytes);
