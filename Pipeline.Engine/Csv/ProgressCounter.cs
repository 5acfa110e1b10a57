namespace Pipeline.Engine.Csv;

/// <summary>Bytes read so far across all parts; updated by the workers, polled by a progress display.</summary>
public sealed class ProgressCounter
{
    private long _bytesRead;

    public long BytesRead => Interlocked.Read(ref _bytesRead);

    internal void Add(long bytes) => Interlocked.Add(ref _bytesRead, bytes);
}
