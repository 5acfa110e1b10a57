namespace Pipeline.Cli.Commands;

/// <summary>
/// "uploaded 12.0 of 300.0 MB (4%)" on stderr, at most four times a second, only when stderr is a terminal;
/// the uploader reports the bytes sent so far.
/// </summary>
internal sealed class UploadProgress : IProgress<long>, IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly long _total;
    private readonly Lock _drawing = new();
    private DateTime _lastDrawn = DateTime.MinValue;
    private bool _done;

    private UploadProgress(long total) => _total = total;

    /// <summary>A display on a terminal; null (report nothing) when stderr is redirected.</summary>
    public static UploadProgress? Show(long total) => Console.IsErrorRedirected ? null : new UploadProgress(total);

    public void Report(long sent)
    {
        lock (_drawing)
        {
            if (_done || DateTime.UtcNow - _lastDrawn < Interval)
            {
                return;
            }
            _lastDrawn = DateTime.UtcNow;
            var percent = _total > 0 ? $" ({100.0 * sent / _total:F0}%)" : "";
            Console.Error.Write($"\r\u001b[2Kuploaded {TerminalProgress.Megabytes(sent)} of {TerminalProgress.Megabytes(_total)}{percent}");
        }
    }

    public void Dispose()
    {
        // The uploader reports through Progress<T>, whose callbacks may still arrive: none may draw after the line is cleared.
        lock (_drawing)
        {
            _done = true;
            Console.Error.Write("\r\u001b[2K");
        }
    }
}
