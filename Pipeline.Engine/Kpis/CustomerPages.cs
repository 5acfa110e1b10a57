using Pipeline.Engine.Collections;

namespace Pipeline.Engine.Kpis;

/// <summary>
/// Customers are counted by page: the 65,536 ids that share all but their lowest 16 bits. The KPI store keeps one state
/// item per day and page (its counts stay under 200 KB however busy the day), and a batch's customers may fall on at
/// most <see cref="Batches.BatchLimits.MaxCustomerPages"/> pages over its days.
/// </summary>
public static class CustomerPages
{
    public const int Bits = 16;

    public const int Size = 1 << Bits;

    /// <summary>The page that the <see cref="IdSet"/> block <paramref name="block"/> of customer ids is on (a page holds 16 blocks).</summary>
    public static long OfBlock(long block) => block >> (Bits - IdSet.BlockBits);
}
