using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Reliability.Tests.Chaos;

/// <summary>
/// Kills a service's process hard (SIGKILL: no shutdown, no drain, no release of its messages) and starts it again
/// with Aspire's start command, as an orchestrator would replace a task that died. Aspire runs a project as
/// <c>dotnet run</c>, whose child is the service itself: the child is what is killed, and the wrapper ends with it.
/// </summary>
public sealed class ServiceKiller(DistributedApplication app)
{
    private static readonly TimeSpan StateTimeout = TimeSpan.FromMinutes(2);

    private int _kills;
    private int _restarts;

    public int Kills => _kills;

    private int _unexpectedExits;

    /// <summary>Services found ended without being killed (a crash of their own) and started again.</summary>
    public int UnexpectedExits => _unexpectedExits;

    public int Restarts => _restarts;

    public async Task KillAndRestartAsync(string service, TimeSpan downtime, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        try
        {
            await KillAndStartAsync(service, downtime, cancellationToken);
        }
        finally
        {
            _turn.Release();
        }
    }

    private async Task KillAndStartAsync(string service, TimeSpan downtime, CancellationToken cancellationToken)
    {
        var wrapper = await RunningProcessAsync(service, cancellationToken);
        var target = ChildOf(wrapper) ?? wrapper;
        try
        {
            using var process = Process.GetProcessById(target);
            process.Kill(); // SIGKILL on Unix
            Interlocked.Increment(ref _kills);
        }
        catch (ArgumentException)
        {
            // it ended by itself just now: started again below all the same
        }
        await WaitForStateAsync(service, s => !IsRunning(s), cancellationToken);
        await Task.Delay(downtime, cancellationToken);
        await StartAsync(service, cancellationToken);
    }

    /// <summary>
    /// Until <paramref name="cancellationToken"/>: every two seconds, starts again any service that ended without being
    /// killed (one that could not start while its AWS was unreachable exits, as it would in ECS, which replaces it).
    /// Kills and these restarts take turns.
    /// </summary>
    public async Task SuperviseAsync(IReadOnlyList<string> services, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
                await _turn.WaitAsync(cancellationToken);
                try
                {
                    foreach (var service in services)
                    {
                        if (app.ResourceNotifications.TryGetCurrentState(service, out var state) && IsEnded(state.Snapshot.State?.Text))
                        {
                            Interlocked.Increment(ref _unexpectedExits);
                            await StartAsync(service, CancellationToken.None);
                        }
                    }
                }
                finally
                {
                    _turn.Release();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private readonly SemaphoreSlim _turn = new(1, 1);

    private async Task StartAsync(string service, CancellationToken cancellationToken)
    {
        var commands = app.Services.GetRequiredService<ResourceCommandService>();
        var result = await commands.ExecuteCommandAsync(service, KnownResourceCommands.StartCommand, cancellationToken);
        if (!result.Success)
        {
            throw new InvalidOperationException($"Aspire could not start {service} again: {result.Message}");
        }
        Interlocked.Increment(ref _restarts);
        await WaitForStateAsync(service, IsRunning, cancellationToken);
    }

    private async Task<int> RunningProcessAsync(string service, CancellationToken cancellationToken)
    {
        var state = await WaitForStateAsync(service, IsRunning, cancellationToken);
        return state.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } pid
            ? Convert.ToInt32(pid, System.Globalization.CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"{service} is running, but its snapshot has no process id");
    }

    private async Task<ResourceEvent> WaitForStateAsync(string service, Func<ResourceEvent, bool> condition, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StateTimeout);
        return await app.ResourceNotifications.WaitForResourceAsync(service, condition, timeout.Token);
    }

    private static bool IsRunning(ResourceEvent e) =>
        e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.Properties.Any(p => p.Name == "executable.pid" && p.Value is not null);

    private static bool IsEnded(string? state) =>
        state == KnownResourceStates.Exited || state == KnownResourceStates.Finished || state == KnownResourceStates.FailedToStart;

    /// <summary>The first child process of <paramref name="parent"/> (from /proc), or null when it has none.</summary>
    private static int? ChildOf(int parent)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }
            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after its closing parenthesis.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == parent)
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // the process ended while it was looked at
            }
        }
        return null;
    }
}
