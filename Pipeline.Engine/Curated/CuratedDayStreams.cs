using System.Collections.Concurrent;

namespace Pipeline.Engine.Curated;

/// <summary>
/// The local files a curated writer writes its days to: <see cref="Open"/> is its <c>openDay</c> (called from any of its
/// threads) and creates the day's file at <c>pathOf(day)</c>, its folder too; the writer leaves the streams open:
/// <see cref="Close"/> closes a finished day's (the writer's <c>dayFinished</c>), and disposing this closes the others.
/// </summary>
public sealed class CuratedDayStreams(Func<DateOnly, string> pathOf) : IDisposable, IAsyncDisposable
{
    private readonly ConcurrentDictionary<DateOnly, Stream> _open = new();
    private int _count;

    /// <summary>The files opened so far, closed or not.</summary>
    public int Count => Volatile.Read(ref _count);

    public Stream Open(DateOnly day)
    {
        string path = pathOf(day);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        if (!_open.TryAdd(day, stream))
        {
            stream.Dispose();
            throw new InvalidOperationException($"the file of {day:yyyy-MM-dd} was opened already");
        }
        Interlocked.Increment(ref _count);
        return stream;
    }

    /// <summary>Closes the file of <paramref name="day"/>, which then holds all that was written to it.</summary>
    public void Close(DateOnly day)
    {
        if (_open.TryRemove(day, out var stream))
        {
            stream.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var day in _open.Keys)
        {
            Close(day);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var day in _open.Keys)
        {
            if (_open.TryRemove(day, out var stream))
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
