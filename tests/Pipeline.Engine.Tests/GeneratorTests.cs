using Pipeline.Engine.Batches;
using Pipeline.Engine.Generation;

namespace Pipeline.Engine.Tests;

/// <summary>What the generator can be asked for beyond its defaults.</summary>
public sealed class GeneratorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pipeline-generator-tests-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_batch_generated_with_categories_of_the_callers_has_kpis_in_exactly_those_and_is_accepted()
    {
        string[] categories = ["Garden & Patio", "Jeans"];
        SyntheticBatchGenerator.Generate(_root, new GeneratorOptions(300, Parts: 2, Seed: 3, Days: 2, Products: 40) { Categories = categories });

        var result = new BatchProcessor().Process(LocalBatchFolder.Open(_root));

        Assert.True(result.Accepted);
        var tables = Kpis.KpiCalculator.Compute(result.Kpis!);
        Assert.Equal(categories, tables.CategoryKpis.Select(r => r.Category).Distinct().Order(StringComparer.Ordinal));
        // Each product's department is its category's name.
        Assert.All(File.ReadLines(Path.Combine(_root, "products.csv")).Skip(1), line => Assert.Equal(line.Split(',')[3], line.Split(',')[7]));
    }

    [Theory]
    [InlineData("Shoes, boots")]
    [InlineData("The \"best\"")]
    [InlineData("")]
    public void A_category_that_would_need_quoting_or_is_empty_is_refused(string category)
    {
        var options = new GeneratorOptions(10) { Categories = ["Books", category] };

        var error = Assert.Throws<ArgumentException>(() => SyntheticBatchGenerator.Generate(_root, options));

        Assert.Contains("without a comma, a quote or a line break", error.Message);
    }
}
