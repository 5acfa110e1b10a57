using System.Collections.Concurrent;

namespace Pipeline.Storage.Batches;

/// <summary>
/// An upload's small parts fetched whole, several at once, as soon as the engine opens its first part: each part read
/// costs a round trip to S3 (tens of milliseconds in AWS) before its first byte, and the engine reads only as many parts
/// at once as the machine has cores, so a batch of many small parts would wait on one round trip after another. Large
/// parts, and the parts beyond <see cref="BudgetBytes"/>, stream from S3 when the engine opens them. Nothing is fetched
/// before the engine opens a part (an upload beyond its limits is never read), and a part fetched is held only until the
/// engine opens it (a second open streams it again).
/// </summary>
internal sealed class PartPrefetch
{
    /// <summary>A part fetched whole is at most this large.</summary>
    public const long PartBytes = 4 * 1024 * 1024;

    /// <summary>
    /// The parts fetched ahead of one batch, together, are at most this large: a seed batch (4 MB) fits; a service handling
    /// eight batches at once holds at most 128 MiB of parts fetched ahead.
    /// </summary>
    public const long BudgetBytes = 16 * 1024 * 1024;

    /// <summary>Parts fetched at once.</summary>
    private const int FetchesAtOnce = 16;

    private readonly IReadOnlyList<BatchObject> _parts;
    private readonly Func<BatchObject, Task<byte[]>> _fetch;
    private readonly Lazy<ConcurrentDictionary<string, Task<byte[]>>> _fetched;

    /// <param name="files">The upload's parts.</param>
    /// <param name="fetch">Reads a part whole.</param>
    public PartPrefetch(IEnumerable<BatchObject> files, Func<BatchObject, Task<byte[]>> fetch)
    {
        var budget = BudgetBytes;
        // In the order the engine reads them: the products, then the orders and the items, largest first.
        _parts = files.DistinctBy(f => f.Key).OrderBy(f => f.Table).ThenByDescending(f => f.Size)
            .Where(f => f.Size <= PartBytes && (budget -= f.Size) >= 0).ToList();
        _fetch = fetch;
        _fetched = new(Start);
    }

    /// <summary>The part as fetched whole (every small part is fetched on the first call), or null when it is to be streamed.</summary>
    public Stream? Open(BatchObject file) =>
        _fetched.Value.TryRemove(file.Key, out var fetched) ? new MemoryStream(fetched.GetAwaiter().GetResult(), writable: false) : null;

    private ConcurrentDictionary<string, Task<byte[]>> Start()
    {
        var slots = new SemaphoreSlim(FetchesAtOnce);
        async Task<byte[]> FetchAsync(BatchObject part)
        {
            await slots.WaitAsync().ConfigureAwait(false);
            try
            {
                return await _fetch(part).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        }
        return new(_parts.ToDictionary(p => p.Key, p => Task.Run(() => FetchAsync(p))), StringComparer.Ordinal);
    }
}
