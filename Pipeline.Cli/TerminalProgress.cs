using Pipeline.Engine.Csv;

namespace Pipeline.Cli;

/// <summary>
/// A progress line on stderr, only when stderr is a terminal: piped or redirected runs stay quiet,
/// so their output is just the machine-readable summary.
/// </summary>
internal sealed class TerminalProgress : IDisposable
{
    private readonly Timer _timer;
    private readonly ProgressCounter _progress;
    private readonly long? _total;
    private readonly string _verb;
    private readonly Func<double, string> _format;

    private TerminalProgress(ProgressCounter progress, long? total, string verb, Func<double, string> format)
    {
        _progress = progress;
        _total = total;
        _verb = verb;
        _format = format;
        _timer = new Timer(_ => Draw(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
    }

    /// <summary>Shows e.g. "read 12.0 of 300.0 MB (4%)"; nothing when stderr is not a terminal.</summary>
    public static IDisposable Show(ProgressCounter progress, long? total, string verb, Func<double, string> format) =>
        Console.IsErrorRedirected ? new NoProgress() : new TerminalProgress(progress, total, verb, format);

    public static string Megabytes(double bytes) => $"{bytes / 1e6:F1} MB";

    public static string Orders(double orders) => $"{orders:N0} orders";

    public void Dispose()
    {
        _timer.Dispose();
        Console.Error.Write("\r\u001b[2K");
    }

    private void Draw()
    {
        long done = _progress.Done;
        string line = _total is > 0 and { } total
            ? $"{_verb} {_format(done)} of {_format(total)} ({100.0 * done / total:F0}%)"
            : $"{_verb} {_format(done)}";
        Console.Error.Write("\r\u001b[2K" + line);
    }

    private sealed class NoProgress : IDisposable
    {
        public void Dispose()
        {
        }
    }
}
