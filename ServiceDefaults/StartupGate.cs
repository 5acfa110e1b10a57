using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Readiness gates start-up only. The liveness check <c>started</c> (on <c>/alive</c>) is unhealthy until every readiness
/// check (<c>/health</c>: the AWS resources the service's role names, the bus's queues and subscriptions, the warm-up) has
/// passed once, and healthy from then on. So a task that never becomes ready (a permission or a resource missing) fails
/// its health check and its deployment is rolled back, while a short AWS outage later costs retries, not every task at
/// once: liveness no longer looks at AWS.
/// </summary>
internal sealed partial class StartupGate(HealthCheckService health, IHostApplicationLifetime lifetime, IServiceProvider services, ILogger<StartupGate> logger)
    : BackgroundService, IHealthCheck
{
    public const string HealthCheckName = "started";

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(30);

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Whether the service is still starting: its host has not finished starting (the bus's receive loops among its
    /// services) or it is warming up. Not being ready then is expected, not a failure: nothing is checked, nothing logged.
    /// </summary>
    public bool IsStarting => !_started.Task.IsCompleted;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var waiting = Stopwatch.StartNew();
        var logged = TimeSpan.Zero;
        var hostStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => hostStarted.TrySetResult()))
        {
            await hostStarted.Task.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        if (services.GetService(typeof(WarmUpService)) is WarmUpService warmUp)
        {
            await warmUp.Done.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        _started.TrySetResult();
        while (true)
        {
            // What /health answers (200 unless a check is Unhealthy).
            var report = await health.CheckHealthAsync(Extensions.IsReadinessCheck, stoppingToken).ConfigureAwait(false);
            if (report.Status != HealthStatus.Unhealthy)
            {
                _ready.TrySetResult();
                LogReady(waiting.ElapsedMilliseconds);
                return;
            }
            if (waiting.Elapsed - logged >= LogInterval)
            {
                logged = waiting.Elapsed;
                LogNotReady((long)waiting.Elapsed.TotalSeconds, string.Join("; ", report.Entries
                    .Where(e => e.Value.Status == HealthStatus.Unhealthy).Select(e => $"{e.Key}: {e.Value.Description ?? e.Value.Exception?.Message}")));
            }
            await Task.Delay(Interval, stoppingToken).ConfigureAwait(false);
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_ready.Task.IsCompleted
            ? HealthCheckResult.Healthy("Ready since start-up")
            : HealthCheckResult.Unhealthy("Not ready yet since start-up (see /health)"));

    [LoggerMessage(Level = LogLevel.Information, Message = "Ready {Milliseconds} ms after start-up; from now on only liveness counts")]
    private partial void LogReady(long milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not ready {Seconds} s after start-up: {Unhealthy}")]
    private partial void LogNotReady(long seconds, string unhealthy);
}
