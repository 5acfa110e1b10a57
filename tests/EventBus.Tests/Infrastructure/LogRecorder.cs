using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EventBus.Tests.Infrastructure;

/// <summary>A logger provider that keeps what a host logs, for tests that assert a failure was reported.</summary>
public sealed class LogRecorder : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message, Exception? Exception)> Entries => [.. _entries];

    /// <summary>The entries at <paramref name="level"/> whose message starts with <paramref name="start"/>.</summary>
    public IReadOnlyList<(LogLevel Level, string Message, Exception? Exception)> Find(LogLevel level, string start) =>
        [.. _entries.Where(e => e.Level == level && e.Message.StartsWith(start, StringComparison.Ordinal))];

    public ILogger CreateLogger(string categoryName) => new Recorder(_entries);

    public void Dispose()
    {
    }

    private sealed class Recorder(ConcurrentQueue<(LogLevel, string, Exception?)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue((logLevel, formatter(state, exception), exception));
    }
}
