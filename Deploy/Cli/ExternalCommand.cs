using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Deploy.Cli;

/// <summary>
/// A program the deploy command runs, exactly as it prints it: extra environment variables first, then the program and
/// its arguments, quoted for a POSIX shell, run in <see cref="WorkingDirectory"/>.
/// </summary>
public sealed partial record ExternalCommand(string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory)
{
    /// <summary>How often a step that prints nothing says it is still running.</summary>
    public static readonly TimeSpan SilenceBeforeProgress = TimeSpan.FromSeconds(30);

    public IReadOnlyList<KeyValuePair<string, string>> Environment { get; init; } = [];

    public ExternalCommand WithEnvironment(string name, string? value) =>
        value is null ? this : this with { Environment = [.. Environment, new(name, value)] };

    /// <summary>The command line to paste into a shell (in <see cref="WorkingDirectory"/>).</summary>
    public override string ToString() =>
        string.Join(' ', Environment.Select(e => $"{e.Key}={Quote(e.Value)}").Concat([Quote(FileName)]).Concat(Arguments.Select(Quote)));

    /// <summary>Runs the command, its output indented under the step, with a line every <see cref="SilenceBeforeProgress"/> it stays silent.</summary>
    public async Task<int> RunAsync(TextWriter output, string indent, CancellationToken cancellationToken)
    {
        using var process = Process.Start(StartInfo())
            ?? throw new InvalidOperationException($"could not start {FileName}");
        var watch = Stopwatch.StartNew();
        var lastOutput = TimeSpan.Zero;
        var gate = new Lock();
        void Write(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (gate)
            {
                output.WriteLine(indent + line);
                lastOutput = watch.Elapsed;
            }
        }
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var progress = new Timer(_ =>
        {
            lock (gate)
            {
                if (watch.Elapsed - lastOutput >= SilenceBeforeProgress)
                {
                    output.WriteLine($"{indent}... still running ({Elapsed(watch.Elapsed)})");
                    lastOutput = watch.Elapsed;
                }
            }
        }, null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return process.ExitCode;
    }

    /// <summary>Runs the command and returns its exit code and output (for short probes such as <c>node --version</c>), or null when it cannot start.</summary>
    public async Task<(int ExitCode, string Output)?> CaptureAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Process? process;
        try
        {
            process = Process.Start(StartInfo());
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // not installed
        }
        if (process is null)
        {
            return null;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"no answer within {timeout.TotalSeconds:0} s");
            }
            return (process.ExitCode, (await stdout + await stderr).Trim());
        }
    }

    public static string Elapsed(TimeSpan elapsed) =>
        elapsed.TotalMinutes >= 1 ? $"{(int)elapsed.TotalMinutes} min {elapsed.Seconds} s" : $"{elapsed.TotalSeconds:0} s";

    private ProcessStartInfo StartInfo()
    {
        // A relative program path (Deploy/cdk/node_modules/.bin/cdk) is relative to the working directory, as in a shell there.
        var start = new ProcessStartInfo(FileName.Contains('/', StringComparison.Ordinal) ? Path.GetFullPath(FileName, WorkingDirectory) : FileName)
        {
            WorkingDirectory = WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in Arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in Environment)
        {
            start.Environment[name] = value;
        }
        return start;
    }

    private static string Quote(string value) =>
        value.Length > 0 && Plain().IsMatch(value) ? value : $"'{value.Replace("'", "'\\''", StringComparison.Ordinal)}'";

    [GeneratedRegex(@"^[A-Za-z0-9_@%+=:,./-]+$")]
    private static partial Regex Plain();
}
