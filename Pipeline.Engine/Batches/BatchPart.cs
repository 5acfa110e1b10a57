using System.Runtime.InteropServices;
using Pipeline.Engine.Csv;

namespace Pipeline.Engine.Batches;

/// <summary>
/// One CSV file of a batch, from anywhere: <see cref="Open"/> gives a fresh readable stream of the file as stored
/// (a local file, an object store download, bytes in memory). <see cref="Name"/> is what reports show, and its
/// extension says how the file is stored (<see cref="PartFormat"/>: a <c>.csv.gz</c> part is decompressed as it is read).
/// <see cref="Length"/>, the stored size when known, only helps scheduling and progress.
/// </summary>
public sealed record BatchPart(string Name, TableKind Table, Func<Stream> Open, long? Length = null)
{
    public static BatchPart FromFile(string path, string name, TableKind table) => new(
        name,
        table,
        () => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan),
        new FileInfo(path).Length);

    public static BatchPart FromBytes(string name, TableKind table, ReadOnlyMemory<byte> content) => new(
        name,
        table,
        () => MemoryMarshal.TryGetArray(content, out ArraySegment<byte> segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false),
        content.Length);
}

/// <summary>The parts of one batch: products, orders and order items, each possibly split in parts.</summary>
public sealed record BatchInput(IReadOnlyList<BatchPart> Parts)
{
    public long? TotalLength => Parts.All(part => part.Length.HasValue) ? Parts.Sum(part => part.Length!.Value) : null;
}
