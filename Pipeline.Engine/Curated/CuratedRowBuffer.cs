using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Curated;

/// <summary>
/// A day's items not yet written, in chunks that the day takes from its writer's spares and gives back once written:
/// buffering and writing a row group allocates nothing large. Growing a list of items, and new column arrays for every
/// row group, made large-object garbage whose full collections took more of the writer's time than compressing.
/// </summary>
internal sealed class CuratedRowBuffer
{
    /// <summary>66 KB of items: below the large-object heap, and little left unused in a day's last chunk.</summary>
    private const int ChunkRows = 512;

    private readonly List<EnrichedOrderItem[]> _chunks = [];

    public int Count { get; private set; }

    public void Add(in EnrichedOrderItem item, Stack<EnrichedOrderItem[]> spares)
    {
        int inChunk = Count % ChunkRows;
        if (inChunk == 0)
        {
            _chunks.Add(spares.TryPop(out var spare) ? spare : new EnrichedOrderItem[ChunkRows]);
        }
        _chunks[^1][inChunk] = item;
        Count++;
    }

    /// <summary>The items in the order they were added, a chunk at a time.</summary>
    public IEnumerable<ArraySegment<EnrichedOrderItem>> Chunks()
    {
        for (int chunk = 0; chunk < _chunks.Count; chunk++)
        {
            yield return new(_chunks[chunk], 0, Math.Min(ChunkRows, Count - chunk * ChunkRows));
        }
    }

    /// <summary>Empties the buffer; its chunks go back to <paramref name="spares"/>.</summary>
    public void Clear(Stack<EnrichedOrderItem[]> spares)
    {
        foreach (var chunk in _chunks)
        {
            spares.Push(chunk);
        }
        _chunks.Clear();
        Count = 0;
    }
}
