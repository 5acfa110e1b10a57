namespace Pipeline.Storage.Kpis;

/// <summary>
/// For one page of one day: how many of the batch versions folded in have each customer. A customer counts towards
/// unique_customers while at least one does, so taking a version out removes exactly the customers it alone brought.
/// Encoded as ascending offsets (distance varints) each followed by its count (varint).
/// </summary>
internal sealed class CustomerCounts
{
    private readonly SortedDictionary<ushort, int> _counts = [];

    /// <summary>Customers counted at least once.</summary>
    public int Distinct => _counts.Count;

    public void Add(IEnumerable<ushort> offsets)
    {
        foreach (var offset in offsets)
        {
            _counts[offset] = _counts.GetValueOrDefault(offset) + 1;
        }
    }

    /// <summary>Takes away what an earlier <see cref="Add"/> of the same offsets added.</summary>
    public void Remove(IEnumerable<ushort> offsets)
    {
        foreach (var offset in offsets)
        {
            var count = _counts.GetValueOrDefault(offset);
            if (count <= 1)
            {
                if (count == 0)
                {
                    throw new InvalidOperationException($"Customer offset {offset} is taken away but was never counted.");
                }
                _counts.Remove(offset);
            }
            else
            {
                _counts[offset] = count - 1;
            }
        }
    }

    /// <summary>The customers that any of the encoded counts has: a page's distinct customers over the slots that hold it.</summary>
    public static int DistinctOver(IEnumerable<byte[]> encoded)
    {
        var any = new HashSet<ushort>();
        foreach (var bytes in encoded)
        {
            any.UnionWith(Decode(bytes)._counts.Keys);
        }
        return any.Count;
    }

    public byte[] Encode()
    {
        using var buffer = new MemoryStream(_counts.Count * 3);
        using (var writer = new BinaryWriter(buffer))
        {
            var previous = -1;
            foreach (var (offset, count) in _counts)
            {
                writer.Write7BitEncodedInt(offset - previous);
                writer.Write7BitEncodedInt(count);
                previous = offset;
            }
        }
        return buffer.ToArray();
    }

    public static CustomerCounts Decode(byte[]? bytes)
    {
        var counts = new CustomerCounts();
        if (bytes is null)
        {
            return counts;
        }
        using var reader = new BinaryReader(new MemoryStream(bytes));
        var previous = -1;
        while (reader.BaseStream.Position < bytes.Length)
        {
            previous += reader.Read7BitEncodedInt();
            counts._counts[(ushort)previous] = reader.Read7BitEncodedInt();
        }
        return counts;
    }
}
