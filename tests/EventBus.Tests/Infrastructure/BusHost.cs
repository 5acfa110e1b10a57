using Amazon.SQS;
using EventBus.AwsSqs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EventBus.Tests.Infrastructure;

/// <summary>
/// A real generic host with the bus on the emulator, as a service would run it, with settings that keep tests short:
/// one-second long polls, quick retries, immediate redelivery.
/// </summary>
public static class BusHost
{
    public static async Task<RunningBus> StartAsync(AwsEmulatorFixture aws, string endpoint,
        Action<SqsEventBusBuilder>? subscribe = null, Action<SqsEventBusOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var host = Build(aws, endpoint, subscribe, configure, services);
        await host.StartAsync();
        return new RunningBus(host);
    }

    public static IHost Build(AwsEmulatorFixture aws, string endpoint,
        Action<SqsEventBusBuilder>? subscribe = null, Action<SqsEventBusOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IAmazonSQS>(_ => aws.CreateSqsClient());
        builder.Services.AddSingleton(_ => aws.CreateSnsClient());
        var bus = builder.AddSqsEventBus(endpoint, options =>
        {
            options.WaitTime = TimeSpan.FromSeconds(1);
            options.RetryDelay = TimeSpan.FromMilliseconds(10);
            options.RedeliveryDelay = TimeSpan.Zero;
            options.ShutdownTimeout = TimeSpan.FromSeconds(10);
            configure?.Invoke(options);
        });
        subscribe?.Invoke(bus);
        services?.Invoke(builder.Services);
        return builder.Build();
    }

}

/// <summary>A started host that is stopped (gracefully, as in production) when disposed, so no test leaves a consumer behind.</summary>
public sealed class RunningBus(IHost host) : IAsyncDisposable
{
    private bool _stopped;

    public IEventBus Bus => host.Services.GetRequiredService<IEventBus>();

    public IServiceProvider Services => host.Services;

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await host.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        host.Dispose();
    }
}
