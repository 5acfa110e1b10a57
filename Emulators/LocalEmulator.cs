using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Emulators;

/// <summary>
/// One emulator process on a free loopback port, for test fixtures and tools that run without the AppHost.
/// Disposing it stops the process (and its data, which lives in memory).
/// </summary>
public sealed partial class LocalEmulator : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;

    private LocalEmulator(Process process, Uri serviceUrl, StringBuilder output)
    {
        _process = process;
        ServiceUrl = serviceUrl;
        _output = output;
    }

    public Uri ServiceUrl { get; }

    /// <summary>Starts <paramref name="service"/> on <paramref name="port"/> (0: any free port) and waits until it listens.</summary>
    public static async Task<LocalEmulator> StartAsync(EmulatedService service, int port = 0, CancellationToken cancellationToken = default)
    {
        EmulatorInstallation.EnsureInstalled();
        var start = new ProcessStartInfo(EmulatorInstallation.NodeExecutable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in EmulatorInstallation.Arguments(service, port))
        {
            start.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups["url"].Value));
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException(
            $"The {service} emulator exited with code {process.ExitCode} before listening:\n{output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            var url = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            return new LocalEmulator(process, url, output);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>What the emulator printed so far, for test failure messages.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"listening at (?<url>http://[^\s]+)")]
    private static partial Regex ListeningLine();
}
