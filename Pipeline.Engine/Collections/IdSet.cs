using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Pipeline.Engine.Collections;

/// <summary>
/// A set of non-negative 64-bit ids that stays small for the ids real data has (mostly dense ranges):
/// ids are grouped in blocks of 4,096 (<see cref="BlockSize"/>); a block holds a short list of 16-bit offsets while it is sparse
/// and turns into a 512-byte bitmap once that is smaller. Dense ids cost about one bit each, scattered
/// ids a few dozen bytes each (never the kilobytes a plain paged bitmap would spend on them).
/// Blocks of ids below 2^32 are found through an array, others through a dictionary.
/// Not thread-safe for writers; any number of readers may call <see cref="Contains"/> once writing is done.
/// </summary>
public sealed class IdSet : IReadOnlyCollection<long>
{
    /// <summary>A block holds the ids that share all but their lowest 12 bits: <see cref="BlockSize"/> of them.</summary>
    public const int BlockBits = 12;

    public const int BlockSize = 1 << BlockBits;

    private const long DirectoryLimit = 1L << 20;

    private readonly Action<long>? _onNewBlock;
    private Block?[] _directory = [];
    private Dictionary<long, Block>? _farBlocks;
    private long _lastKey = -1;
    private Block? _lastBlock;

    public IdSet()
    {
    }

    /// <summary>
    /// A set that calls <paramref name="onNewBlock"/> with a block's key (the id shifted right by <see cref="BlockBits"/>) before
    /// <see cref="Add"/> opens a new block, so a caller can bound how many blocks (and so how much memory) ids take;
    /// an exception it throws leaves the set as it was. Merging (<see cref="UnionWith"/>) does not call it.
    /// </summary>
    public IdSet(Action<long> onNewBlock)
    {
        _onNewBlock = onNewBlock;
    }

    public long Count { get; private set; }

    int IReadOnlyCollection<long>.Count => checked((int)Count);

    /// <summary>Adds the id; false when it was already present.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Add(long id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        long key = id >> BlockBits;
        Block block = key == _lastKey ? _lastBlock! : BlockFor(key, _onNewBlock);
        if (!block.Add((ushort)(id & (BlockSize - 1))))
        {
            return false;
        }

        Count++;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Contains(long id)
    {
        long key = id >> BlockBits;
        Block? block = (ulong)key < (ulong)_directory.Length ? _directory[key]
            : key >= DirectoryLimit && _farBlocks is not null ? _farBlocks.GetValueOrDefault(key)
            : null;
        return block is not null && block.Contains((ushort)(id & (BlockSize - 1)));
    }

    /// <summary>
    /// Adds all ids of <paramref name="other"/>; returns how many were already present and collects
    /// up to <paramref name="maxOverlaps"/> of them (to report duplicates found across parts).
    /// </summary>
    public long UnionWith(IdSet other, List<long>? overlaps = null, int maxOverlaps = 0)
    {
        long overlapCount = 0;
        foreach ((long key, Block otherBlock) in other.Blocks())
        {
            Block block = BlockFor(key, null);
            long before = block.Count;
            foreach (ushort offset in block.UnionWith(otherBlock))
            {
                if (++overlapCount <= maxOverlaps)
                {
                    overlaps?.Add((key << BlockBits) | offset);
                }
            }

            Count += block.Count - before;
        }

        return overlapCount;
    }

    /// <summary>An independent copy.</summary>
    public IdSet Clone()
    {
        var copy = new IdSet();
        copy.UnionWith(this);
        return copy;
    }

    public IEnumerator<long> GetEnumerator() => Ordered().GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The ids in ascending order.</summary>
    public IEnumerable<long> Ordered() =>
        Blocks().OrderBy(entry => entry.Key)
            .SelectMany(entry => entry.Block.SortedOffsets().Select(offset => (entry.Key << BlockBits) | offset));

    private IEnumerable<(long Key, Block Block)> Blocks()
    {
        for (long key = 0; key < _directory.Length; key++)
        {
            if (_directory[key] is { } block)
            {
                yield return (key, block);
            }
        }

        foreach ((long key, Block block) in _farBlocks ?? [])
        {
            yield return (key, block);
        }
    }

    private Block BlockFor(long key, Action<long>? onNewBlock)
    {
        Block block;
        if (key < DirectoryLimit)
        {
            if (key >= _directory.Length)
            {
                Array.Resize(ref _directory, (int)Math.Min(DirectoryLimit, Math.Max(key + 1, _directory.Length * 2L)));
            }

            block = _directory[key] ??= NewBlock(key, onNewBlock);
        }
        else
        {
            _farBlocks ??= [];
            block = _farBlocks.TryGetValue(key, out Block? found) ? found : _farBlocks[key] = NewBlock(key, onNewBlock);
        }

        _lastKey = key;
        _lastBlock = block;
        return block;
    }

    private static Block NewBlock(long key, Action<long>? onNewBlock)
    {
        onNewBlock?.Invoke(key);
        return new Block();
    }

    private sealed class Block
    {
        // A list costs 2 bytes an id and a linear search; past this many ids the 512-byte bitmap wins.
        private const int ListLimit = 64;

        private ushort[]? _list = new ushort[4];
        private ulong[]? _bits;
        private int _listCount;

        public int Count { get; private set; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

            if (_list.AsSpan(0, _listCount).Contains(offset))
            {
                return false;
            }

            if (_listCount == ListLimit)
            {
                ToBitmap();
                return Add(offset);
            }

            if (_listCount == _list!.Length)
            {
                Array.Resize(ref _list, _list.Length * 2);
            }

            _list[_listCount++] = offset;
            Count = _listCount;
            return true;
        }

        /// <summary>Adds the other block's offsets; returns those this block already had.</summary>
        public IReadOnlyList<ushort> UnionWith(Block other)
        {
            var overlaps = new List<ushort>();
            if (other._bits is null)
            {
                foreach (ushort offset in other._list.AsSpan(0, other._listCount))
                {
                    if (!Add(offset))
                    {
                        overlaps.Add(offset);
                    }
                }

                return overlaps;
            }

            ulong[] bits = ToBitmap();
            for (int wordIndex = 0; wordIndex < bits.Length; wordIndex++)
            {
                for (ulong common = bits[wordIndex] & other._bits[wordIndex]; common != 0; common &= common - 1)
                {
                    overlaps.Add((ushort)((wordIndex << 6) | BitOperations.TrailingZeroCount(common)));
                }

                Count += BitOperations.PopCount(other._bits[wordIndex] & ~bits[wordIndex]);
                bits[wordIndex] |= other._bits[wordIndex];
            }

            return overlaps;
        }

        private ulong[] ToBitmap()
        {
            if (_bits is null)
            {
                _bits = new ulong[BlockSize / 64];
                foreach (ushort existing in _list.AsSpan(0, _listCount))
                {
                    _bits[existing >> 6] |= 1UL << (existing & 63);
                }

                _list = null;
                _listCount = 0;
            }

            return _bits;
        }

        public bool Contains(ushort offset) => _bits is not null
            ? (_bits[offset >> 6] & (1UL << (offset & 63))) != 0
            : _list.AsSpan(0, _listCount).Contains(offset);

        public ushort[] SortedOffsets()
        {
            if (_bits is null)
            {
                ushort[] sorted = _list.AsSpan(0, _listCount).ToArray();
                Array.Sort(sorted);
                return sorted;
            }

            var offsets = new ushort[Count];
            int next = 0;
            for (int wordIndex = 0; wordIndex < _bits.Length; wordIndex++)
            {
                for (ulong word = _bits[wordIndex]; word != 0; word &= word - 1)
                {
                    offsets[next++] = (ushort)((wordIndex << 6) | BitOperations.TrailingZeroCount(word));
                }
            }

            return offsets;
        }
    }
}
