using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Pipeline.Testing;

/// <summary>One line a resource wrote (its console output, as the Aspire dashboard's console logs show it).</summary>
public sealed partial record ResourceLogLine(string Resource, LogLevel Level, string Text)
{
    /// <summary>
    /// Whether the line is an error: written to standard error, or the first line of an entry a .NET console logger wrote
    /// at Error or Critical (<c>fail: Category[EventId]</c>, <c>crit: ...</c>).
    /// </summary>
    public bool IsError => Level >= LogLevel.Error || ErrorEntry().IsMatch(Ansi().Replace(Text, ""));

    [GeneratedRegex(@"(^|\s)(fail|crit): \S+\[\d+\]")]
    private static partial Regex ErrorEntry();

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex Ansi();
}

/// <summary>
/// What the AppHost's resources write: Aspire.Hosting.Testing forwards each resource's console output to the AppHost's
/// logging under the category <c>AppHost.Resources.&lt;resource&gt;</c> (standard error as Error, the rest as
/// Information), and this provider keeps every line until the app has started, and the latest lines after that.
/// </summary>
public sealed class ResourceLogs : ILoggerProvider
{
    public const string CategoryPrefix = "AppHost.Resources.";

    private const int RecentLines = 2_000;

    private readonly ConcurrentQueue<ResourceLogLine> _startup = new();
    private readonly ConcurrentQueue<ResourceLogLine> _recent = new();
    private volatile bool _started;

    /// <summary>Every line written until <see cref="MarkStarted"/>: a start, from the first resource to the last one healthy.</summary>
    public IReadOnlyList<ResourceLogLine> Startup => [.. _startup];

    /// <summary>The latest lines (up to 2,000).</summary>
    public IReadOnlyList<ResourceLogLine> Recent => [.. _recent];

    /// <summary>Ends the start: later lines are kept among the recent ones only.</summary>
    public void MarkStarted() => _started = true;

    public ILogger CreateLogger(string categoryName) => categoryName.StartsWith(CategoryPrefix, StringComparison.Ordinal)
        ? new Recorder(this, categoryName[CategoryPrefix.Length..])
        : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    private void Add(ResourceLogLine line)
    {
        if (!_started)
        {
            _startup.Enqueue(line);
        }
        _recent.Enqueue(line);
        while (_recent.Count > RecentLines && _recent.TryDequeue(out _))
        {
        }
    }

    private sealed class Recorder(ResourceLogs logs, string resource) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs.Add(new ResourceLogLine(resource, logLevel, formatter(state, exception)));
    }
}
