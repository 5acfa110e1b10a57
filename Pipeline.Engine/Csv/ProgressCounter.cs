namespace Pipeline.Engine.Csv;

/// <summary>
/// Work done so far (bytes read by the batch processor, orders written by the generator), updated by
/// the workers and polled by a progress display.
/// </summary>
public sealed class ProgressCounter
{
    private long _done;

    public long Done => Interlocked.Read(ref _done);

    internal void Add(long amount) => Interlocked.Add(ref _done, amount);
}

/// <summary>
/// The decompressed bytes of a batch's compressed parts so far, shared by the parts read at once and checked against
/// <see cref="Batches.BatchLimits.MaxDecompressedBatchBytes"/>.
/// </summary>
internal sealed class DecompressedBytes
{
    private long _bytes;

    /// <summary>Adds <paramref name="amount"/> and returns the total.</summary>
    public long Add(long amount) => Interlocked.Add(ref _bytes, amount);
}
