namespace Pipeline.Storage.Kpis;

/// <summary>
/// How a day's KPI state stays far under DynamoDB's 400 KB item limit however many batches a day has. A day starts as
/// one slot item; once the bookkeeping of a slot (which version of each batch it holds, and its list of customer pages)
/// reaches <see cref="SlotBookkeepingBytes"/>, the slot takes no new batches: each goes to one of <see cref="Fanout"/>
/// child slots, chosen by a hash of the batch name (docs/kpi-storage.md).
/// </summary>
public sealed record KpiStateLimits
{
    public static KpiStateLimits Default { get; } = new();

    /// <summary>A slot admits a new batch while its bookkeeping, with the batch's entry, stays within this many bytes.</summary>
    public int SlotBookkeepingBytes
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(SlotBookkeepingBytes), value, "A slot must admit some bytes.");
    } = 32 * 1024;

    /// <summary>How many child slots a full slot hands its new batches to (2 to 256: one byte of the hash picks one).</summary>
    public int Fanout
    {
        get;
        init => field = value is >= 2 and <= 256 ? value : throw new ArgumentOutOfRangeException(nameof(Fanout), value, "A fanout is 2 to 256.");
    } = 16;
}
