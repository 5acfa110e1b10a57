using System.Collections.Concurrent;
using System.Numerics;

namespace Pipeline.Engine.Collections;

/// <summary>
/// A set of positive 64-bit ids that stays small for the ids real data has (mostly dense ranges):
/// ids are grouped in blocks of 4,096; a block holds a short list of 16-bit offsets while it is sparse
/// and turns into a 512-byte bitmap once that is smaller. Dense ids cost about one bit each,
/// scattered ids a few bytes each (never the 8 KB page a plain paged bitmap would spend).
/// Safe for concurrent use: each block has its own lock, so parallel parts rarely contend.
/// </summary>
public sealed class IdSet
{
    private const int BlockBits = 12;
    private const int BlockSize = 1 << BlockBits;

    private readonly ConcurrentDictionary<long, Block> _blocks = new();

    public long Count => _blocks.Values.Sum(block => (long)block.Count);

    /// <summary>Adds the id; false when it was already present.</summary>
    public bool Add(long id)
    {
        Block block = _blocks.GetOrAdd(id >> BlockBits, static _ => new Block());
        lock (block)
        {
            return block.Add((ushort)(id & (BlockSize - 1)));
        }
    }

    public bool Contains(long id)
    {
        if (!_blocks.TryGetValue(id >> BlockBits, out Block? block))
        {
            return false;
        }

        lock (block)
        {
            return block.Contains((ushort)(id & (BlockSize - 1)));
        }
    }

    public void UnionWith(IdSet other)
    {
        foreach (long id in other.Ordered())
        {
            Add(id);
        }
    }

    /// <summary>The ids in ascending order.</summary>
    public IEnumerable<long> Ordered()
    {
        foreach (long key in _blocks.Keys.Order())
        {
            ushort[] offsets;
            Block block = _blocks[key];
            lock (block)
            {
                offsets = block.SortedOffsets();
            }

            foreach (ushort offset in offsets)
            {
                yield return (key << BlockBits) | offset;
            }
        }
    }

    private sealed class Block
    {
        // A list of offsets costs 2 bytes an id; past this many the 512-byte bitmap is smaller.
        private const int ListLimit = BlockSize / 16;

        private ushort[]? _list = new ushort[4];
        private ulong[]? _bits;

        public int Count { get; private set; }

        public bool Add(ushort offset)
        {
            if (_bits is not null)
            {
                ref ulong word = ref _bits[offset >> 6];
                ulong mask = 1UL << (offset & 63);
                if ((word & mask) != 0)
                {
                    return false;
                }

                word |= mask;
                Count++;
                return true;
            }

            if (_list.AsSpan(0, Count).Contains(offset))
            {
                return false;
            }

            if (Count == ListLimit)
            {
                _bits = new ulong[BlockSize / 64];
                foreach (ushort existing in _list.AsSpan(0, Count))
                {
                    _bits[existing >> 6] |= 1UL << (existing & 63);
                }

                _list = null;
                Count = 0;
                foreach (ulong word in _bits)
                {
                    Count += BitOperations.PopCount(word);
                }

                return Add(offset);
            }

            if (Count == _list!.Length)
            {
                Array.Resize(ref _list, Math.Min(_list.Length * 2, ListLimit));
            }

            _list[Count++] = offset;
            return true;
        }

        public bool Contains(ushort offset) => _bits is not null
            ? (_bits[offset >> 6] & (1UL << (offset & 63))) != 0
            : _list.AsSpan(0, Count).Contains(offset);

        public ushort[] SortedOffsets()
        {
            if (_bits is null)
            {
                ushort[] sorted = _list.AsSpan(0, Count).ToArray();
                Array.Sort(sorted);
                return sorted;
            }

            var offsets = new ushort[Count];
            int next = 0;
            for (int wordIndex = 0; wordIndex < _bits.Length; wordIndex++)
            {
                ulong word = _bits[wordIndex];
                while (word != 0)
                {
                    offsets[next++] = (ushort)((wordIndex << 6) | BitOperations.TrailingZeroCount(word));
                    word &= word - 1;
                }
            }

            return offsets;
        }
    }
}
