using System.Collections.Concurrent;
using Amazon.SQS;
using EventBus.AwsSqs;
using EventBus.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventBus.Tests;

public sealed record Heartbeat(int Number);
public sealed record Extended(string Name);

/// <summary>
/// The receive loop and the visibility extension when SQS calls fail under the SDK (a fault layer under a real client):
/// they log and go on, and the bus's health check says whether each queue is being received from.
/// </summary>
public class ReceiveLoopTests(AwsEmulatorFixture aws) : IClassFixture<AwsEmulatorFixture>
{
    private const string ReceiveMessage = "AmazonSQS.ReceiveMessage";
    private const string ChangeMessageVisibility = "AmazonSQS.ChangeMessageVisibility";
    private const string ExtensionFailed = "Could not extend the visibility of a message";

    private static Action<IServiceCollection> Services(
        AwsEmulatorFixture aws, NetworkFaults faults, LogRecorder logs, params object[] singletons) => services =>
    {
        services.AddSingleton<IAmazonSQS>(aws.CreateSqsClient(faults)).AddSingleton<ILoggerProvider>(logs).AddSingleton(faults);
        foreach (var singleton in singletons)
        {
            services.AddSingleton(singleton.GetType(), singleton);
        }
    };

    private static async Task<HealthReportEntry> HealthAsync(IServiceProvider services) =>
        (await services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries[SqsEventBusExtensions.HealthCheckName];

    [Fact]
    public async Task The_receive_loop_outlives_receives_that_fail_with_cancellation_or_a_disposed_connection()
    {
        const string queue = "survives-failures";
        var (faults, logs, received) = (new NetworkFaults(TimeSpan.FromSeconds(5)), new LogRecorder(), new Received<Heartbeat>());
        await using var host = await BusHost.StartAsync(aws, queue, bus => bus.AddSubscription<Heartbeat, RecordingHandler<Heartbeat>>(),
            services: Services(aws, faults, logs, received));

        // What the SDK throws when HttpClient cancels a request its caller did not cancel: the loop used to stop on these.
        faults.Inject(ReceiveMessage, NetworkFault.ConnectionDropped, NetworkFault.Cancelled);
        await QueueProbe.EventuallyAsync(() => Task.FromResult(faults.Happened.Count == 2), "both receives fail");
        await host.Bus.PublishAsync(new Heartbeat(1));

        Assert.Equal(1, Assert.Single(await received.WaitForAsync(1)).Message.Number);
        var failures = logs.Find(LogLevel.Warning, $"Receiving from {queue} failed");
        Assert.Collection(failures,
            f => Assert.IsType<ObjectDisposedException>(f.Exception),
            f => Assert.IsType<TaskCanceledException>(f.Exception));
        Assert.Equal(HealthStatus.Healthy, (await HealthAsync(host.Services)).Status);
    }

    [Fact]
    public async Task The_health_check_is_unhealthy_unless_every_receive_loop_runs_and_degraded_while_receives_fail()
    {
        const string queue = "health-states";
        var (faults, logs) = (new NetworkFaults(TimeSpan.FromSeconds(5)), new LogRecorder());
        using var host = BusHost.Build(aws, queue, bus => bus.AddSubscription<Heartbeat, RecordingHandler<Heartbeat>>(),
            services: Services(aws, faults, logs, new Received<Heartbeat>()));
        var registration = Assert.Single(host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations);
        Assert.Equal(SqsEventBusExtensions.HealthCheckName, registration.Name);
        // Not tagged "live": ServiceDefaults reports it on /health (readiness), not on /alive.
        Assert.Empty(registration.Tags);

        Assert.Equal(HealthStatus.Unhealthy, (await HealthAsync(host.Services)).Status);
        await host.StartAsync();
        var running = await HealthAsync(host.Services);
        Assert.Equal(HealthStatus.Healthy, running.Status);
        Assert.Equal($"Receiving from {queue}", running.Description);

        faults.Inject(ReceiveMessage, Enumerable.Repeat(NetworkFault.ConnectionDropped, 50).ToArray());
        await QueueProbe.EventuallyAsync(async () => (await HealthAsync(host.Services)).Status == HealthStatus.Degraded, "receiving is reported failing");
        Assert.StartsWith($"Receiving from {queue} failed", (await HealthAsync(host.Services)).Description, StringComparison.Ordinal);
        faults.Heal();
        await QueueProbe.EventuallyAsync(async () => (await HealthAsync(host.Services)).Status == HealthStatus.Healthy, "receiving recovers");

        await host.StopAsync();
        var stopped = await HealthAsync(host.Services);
        Assert.Equal(HealthStatus.Unhealthy, stopped.Status);
        Assert.Equal($"Not receiving from {queue}", stopped.Description);
    }

    /// <summary>Works until the visibility extension under it has failed and said so, and succeeds.</summary>
    public sealed class OutlastTheFailedExtension(LogRecorder logs, ConcurrentQueue<int> handled) : IIntegrationEventHandler<Extended>
    {
        public async Task HandleAsync(Extended message, MessageContext context, CancellationToken cancellationToken)
        {
            handled.Enqueue(context.ReceiveCount);
            await QueueProbe.EventuallyAsync(() => Task.FromResult(logs.Find(LogLevel.Warning, ExtensionFailed).Count > 0), "the extension fails and says so");
        }
    }

    [Fact]
    public async Task A_cancelled_visibility_extension_neither_fails_the_handled_message_nor_skips_its_delete()
    {
        const string queue = "extension-failures";
        var (faults, logs, handled) = (new NetworkFaults(TimeSpan.FromSeconds(5)), new LogRecorder(), new ConcurrentQueue<int>());
        await using var host = await BusHost.StartAsync(aws, queue, bus => bus.AddSubscription<Extended, OutlastTheFailedExtension>(),
            options => { options.VisibilityTimeout = TimeSpan.FromSeconds(2); options.MaxConcurrency = 1; },
            Services(aws, faults, logs, handled, logs));
        using var sqs = aws.CreateSqsClient();
        faults.Inject(ChangeMessageVisibility, NetworkFault.Cancelled);

        await host.Bus.PublishAsync(new Extended("report"));

        await QueueProbe.EventuallyAsync(
            async () => !handled.IsEmpty && await QueueProbe.CountAsync(sqs, queue) == (0, 0), "the message is handled and deleted");
        Assert.Equal([(ChangeMessageVisibility, NetworkFault.Cancelled)], faults.Happened);
        Assert.Equal([1], handled);
        Assert.Single(logs.Find(LogLevel.Warning, $"{ExtensionFailed} on {queue}"));
    }
}
