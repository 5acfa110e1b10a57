namespace Pipeline.Cli;

/// <summary>
/// A progress line on stderr, only when stderr is a terminal: piped or redirected runs stay quiet,
/// so their output is just the machine-readable summary.
/// </summary>
internal sealed class TerminalProgress : IDisposable
{
    private readonly Timer _timer;
    private readonly Func<long> _bytesRead;
    private readonly long? _totalBytes;

    private TerminalProgress(Func<long> bytesRead, long? totalBytes)
    {
        _bytesRead = bytesRead;
        _totalBytes = totalBytes;
        _timer = new Timer(_ => Draw(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
    }

    public static IDisposable Show(Func<long> bytesRead, long? totalBytes) =>
        Console.IsErrorRedirected ? new NoProgress() : new TerminalProgress(bytesRead, totalBytes);

    public void Dispose()
    {
        _timer.Dispose();
        Console.Error.Write("\r\u001b[2K");
    }

    private void Draw()
    {
        double megabytes = _bytesRead() / 1e6;
        string line = _totalBytes is > 0 and { } total
            ? $"read {megabytes:F1} of {total / 1e6:F1} MB ({100.0 * _bytesRead() / total:F0}%)"
            : $"read {megabytes:F1} MB";
        Console.Error.Write("\r\u001b[2K" + line);
    }

    private sealed class NoProgress : IDisposable
    {
        public void Dispose()
        {
        }
    }
}
