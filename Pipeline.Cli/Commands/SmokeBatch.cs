using Pipeline.Engine.Batches;
using Pipeline.Engine.Generation;
using Pipeline.Engine.Kpis;

namespace Pipeline.Cli.Commands;

/// <summary>
/// The batch <c>pipeline smoke</c> sends: generated, with a seed of its own each run (so it is never a copy of an earlier
/// run's, which the pipeline would take for a duplicate), under a name, on days and with order ids that real data does
/// not have, so that it cannot collide with a real batch (an order id counted in another batch is refused) nor touch a
/// real day's KPIs. The engine computes its KPIs from the same files: what the pipeline must store.
/// </summary>
/// <param name="Folder">Where its files are.</param>
internal sealed record SmokeBatch(string Folder, ulong Seed, IReadOnlyList<string> Categories, long Orders, long Items, KpiTables Expected)
{
    /// <summary>The batch name, the smoke's own: each run is a new version of it, replacing whatever an interrupted run left.</summary>
    public const string Name = "pipeline-smoke";

    /// <summary>Its orders fall on this day and the next, its items up to the day after: no order data is that old.</summary>
    public static readonly DateOnly FirstDay = new(1901, 1, 1);

    /// <summary>The last day the batch can have KPIs on (an item is created up to an hour after its order).</summary>
    public static readonly DateOnly LastDay = FirstDay.AddDays(OrderDays);

    /// <summary>
    /// Order and order item ids start above this: ids have up to 18 digits, and real id sequences are nowhere near
    /// 900,000,000,000,000,000.
    /// </summary>
    public const long IdOffset = 900_000_000_000_000_000;

    /// <summary>Enough for several rows per category and day, small enough to take a second.</summary>
    public const long OrderCount = 200;

    private const int OrderDays = 2;
    private const int ProductCount = 50;

    /// <summary>
    /// Categories already in the KPIs are used when there are some (up to seven, that can be written unquoted), so the list
    /// of categories is the same after the run; the generator's own otherwise.
    /// </summary>
    private const int MaxCategories = 7;

    /// <summary>Writes the batch's files to <paramref name="folder"/> and computes their KPIs with the engine.</summary>
    public static SmokeBatch Generate(string folder, IEnumerable<string> knownCategories, ulong seed)
    {
        var reused = knownCategories.Where(GeneratorOptions.IsPlainCategory).Take(MaxCategories).ToList();
        var options = new GeneratorOptions(OrderCount, Parts: 2, Seed: seed, Days: OrderDays, Products: ProductCount)
        {
            FirstDay = FirstDay,
            IdOffset = IdOffset,
            Categories = reused.Count > 0 ? reused : null,
        };
        var generated = SyntheticBatchGenerator.Generate(folder, options);
        var result = new BatchProcessor().Process(LocalBatchFolder.Open(folder));
        if (result.Kpis is not { } kpis)
        {
            // The generator writes valid batches: the engine refusing one is a bug here, not in the pipeline.
            throw new InvalidOperationException($"the engine rejects the generated smoke batch (seed {seed}): {result.Report.ErrorCount} errors");
        }
        var expected = KpiCalculator.Compute(kpis);
        return new SmokeBatch(folder, seed, expected.CategoryKpis.Select(r => r.Category).Distinct().Order(StringComparer.Ordinal).ToList(),
            generated.Orders, generated.Items, expected);
    }
}
