using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventBus.AwsSqs;

/// <summary>
/// Whether the bus consumes: unhealthy while a receive loop is not running (not started yet, stopped, or ended by a
/// fault), degraded while receives keep failing (the loop retries them), healthy otherwise. A bus that only publishes
/// has nothing to report.
/// </summary>
internal sealed class SqsEventBusHealthCheck(SqsEventBusHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Check());

    private HealthCheckResult Check()
    {
        if (!host.Receives)
        {
            return HealthCheckResult.Healthy("The event bus only publishes");
        }
        var endpoints = host.Endpoints;
        if (endpoints.Count == 0)
        {
            return HealthCheckResult.Unhealthy("The event bus has not started receiving");
        }
        var stopped = endpoints.Where(e => !e.IsReceiving).Select(e => e.QueueName).ToList();
        if (stopped.Count > 0)
        {
            return HealthCheckResult.Unhealthy($"Not receiving from {string.Join(", ", stopped)}");
        }
        var failing = endpoints.Select(e => (e.QueueName, Failures: e.ReceiveFailures)).Where(e => e.Failures.Count > 0).ToList();
        if (failing.Count > 0)
        {
            return HealthCheckResult.Degraded(
                string.Join("; ", failing.Select(f => $"Receiving from {f.QueueName} failed {f.Failures.Count} times in a row: {f.Failures.Last?.Message}")),
                failing[0].Failures.Last);
        }
        return HealthCheckResult.Healthy($"Receiving from {string.Join(", ", endpoints.Select(e => e.QueueName))}");
    }
}
