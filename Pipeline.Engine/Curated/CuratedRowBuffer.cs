using System.Numerics;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Curated;

/// <summary>
/// A day's items not yet written, in chunks that the day takes from its writer's <see cref="Spares"/> and gives back once
/// written: buffering and writing a row group allocates nothing large. Growing a list of items, and new column arrays for
/// every row group, made large-object garbage. A day's chunks double from 16 items to 512 (66 KB, below the large-object
/// heap), so a batch of many days with few items each holds little more than its items, as a list would.
/// </summary>
internal sealed class CuratedRowBuffer
{
    private const int FirstChunkRows = 16;
    private const int ChunkRows = 512;

    private readonly List<EnrichedOrderItem[]> _chunks = [];
    private int _inLastChunk;

    public int Count { get; private set; }

    public void Add(in EnrichedOrderItem item, Spares spares)
    {
        if (_chunks.Count == 0 || _inLastChunk == _chunks[^1].Length)
        {
            _chunks.Add(spares.Take(_chunks.Count == 0 ? FirstChunkRows : Math.Min(ChunkRows, _chunks[^1].Length * 2)));
            _inLastChunk = 0;
        }
        _chunks[^1][_inLastChunk++] = item;
        Count++;
    }

    /// <summary>The items in the order they were added, a chunk at a time.</summary>
    public IEnumerable<ArraySegment<EnrichedOrderItem>> Chunks()
    {
        for (int chunk = 0; chunk < _chunks.Count; chunk++)
        {
            yield return new(_chunks[chunk], 0, chunk == _chunks.Count - 1 ? _inLastChunk : _chunks[chunk].Length);
        }
    }

    /// <summary>Empties the buffer; its chunks go back to <paramref name="spares"/>.</summary>
    public void Clear(Spares spares)
    {
        foreach (var chunk in _chunks)
        {
            spares.Give(chunk);
        }
        _chunks.Clear();
        _inLastChunk = 0;
        Count = 0;
    }

    /// <summary>The chunks a writer's days gave back, by size, for its days to take again. Used by one thread.</summary>
    internal sealed class Spares
    {
        private readonly Stack<EnrichedOrderItem[]>[] _bySize =
            [.. Enumerable.Range(0, SizeOf(ChunkRows) + 1).Select(_ => new Stack<EnrichedOrderItem[]>())];

        public EnrichedOrderItem[] Take(int rows) => _bySize[SizeOf(rows)].TryPop(out var chunk) ? chunk : new EnrichedOrderItem[rows];

        public void Give(EnrichedOrderItem[] chunk) => _bySize[SizeOf(chunk.Length)].Push(chunk);

        private static int SizeOf(int rows) => BitOperations.Log2((uint)(rows / FirstChunkRows));
    }
}
