using System.Collections.Concurrent;

namespace Pipeline.Engine.Curated;

/// <summary>
/// The local files a curated writer writes its days to: <see cref="Open"/> is its <c>openDay</c> (called from any of its
/// threads) and creates the day's file at <c>pathOf(day)</c>, its folder too; the writer leaves the streams open, and
/// disposing this closes them all.
/// </summary>
public sealed class CuratedDayStreams(Func<DateOnly, string> pathOf) : IDisposable, IAsyncDisposable
{
    private readonly ConcurrentQueue<Stream> _opened = new();
    private int _count;

    /// <summary>The files opened so far, closed or not.</summary>
    public int Count => Volatile.Read(ref _count);

    public Stream Open(DateOnly day)
    {
        string path = pathOf(day);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        _opened.Enqueue(stream);
        Interlocked.Increment(ref _count);
        return stream;
    }

    public void Dispose()
    {
        while (_opened.TryDequeue(out var stream))
        {
            stream.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        while (_opened.TryDequeue(out var stream))
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }
}
