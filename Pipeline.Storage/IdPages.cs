namespace Pipeline.Storage;

/// <summary>
/// Sets of ids stored by page: a page holds the ids that share everything but their lowest bits, so one item never
/// outgrows DynamoDB's 400 KB however many ids there are. Ids are written as ascending offsets within their page,
/// each as a 7-bit varint of its distance from the previous one (a byte each for dense ids, three at most).
/// </summary>
internal static class IdPages
{
    /// <summary>The ids by page (ascending), each page's offsets ascending and distinct.</summary>
    public static SortedDictionary<long, List<ushort>> Split(IEnumerable<long> ids, int pageBits)
    {
        var mask = (1L << pageBits) - 1;
        var pages = new SortedDictionary<long, List<ushort>>();
        // Ids usually come ascending (an IdSet's order): then a page is looked up once, and nothing needs sorting.
        List<ushort>? offsets = null;
        var (currentPage, previous, ascending) = (long.MinValue, long.MinValue, true);
        foreach (var id in ids)
        {
            ascending &= id > previous;
            previous = id;
            var page = id >> pageBits;
            if (page != currentPage || offsets is null)
            {
                currentPage = page;
                if (!pages.TryGetValue(page, out offsets))
                {
                    pages[page] = offsets = [];
                }
            }
            offsets.Add((ushort)(id & mask));
        }
        if (ascending)
        {
            return pages;
        }
        foreach (var unsorted in pages.Values)
        {
            unsorted.Sort();
            var distinct = 0;
            for (var i = 0; i < unsorted.Count; i++)
            {
                if (i == 0 || unsorted[i] != unsorted[distinct - 1])
                {
                    unsorted[distinct++] = unsorted[i];
                }
            }
            unsorted.RemoveRange(distinct, unsorted.Count - distinct);
        }
        return pages;
    }

    public static long IdOf(long page, ushort offset, int pageBits) => (page << pageBits) | offset;

    public static byte[] Encode(IReadOnlyList<ushort> ascendingOffsets)
    {
        using var buffer = new MemoryStream(ascendingOffsets.Count * 2);
        using (var writer = new BinaryWriter(buffer))
        {
            var previous = -1;
            foreach (var offset in ascendingOffsets)
            {
                writer.Write7BitEncodedInt(offset - previous);
                previous = offset;
            }
        }
        return buffer.ToArray();
    }

    public static List<ushort> Decode(byte[] bytes)
    {
        var offsets = new List<ushort>();
        using var reader = new BinaryReader(new MemoryStream(bytes));
        var previous = -1;
        while (reader.BaseStream.Position < bytes.Length)
        {
            previous += reader.Read7BitEncodedInt();
            offsets.Add((ushort)previous);
        }
        return offsets;
    }
}
