using Pipeline.Testing;

namespace AppHost.Tests;

/// <summary>The test classes that share one running AppHost (they run one after the other).</summary>
[CollectionDefinition(Name)]
public sealed class EmulatorAppCollection : ICollectionFixture<EmulatorAppFixture>
{
    public const string Name = "AppHost on the emulators";
}

/// <summary>The real AppHost in emulator mode, started once for the collection (see <see cref="EmulatorApp"/>).</summary>
public sealed class EmulatorAppFixture : EmulatorApp, IAsyncLifetime
{
    /// <summary>What the services' OTLP exporters send (as the dashboard would get it): every span of the collection's run.</summary>
    public OtlpTraceReceiver Traces { get; } = OtlpTraceReceiver.Start();

    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            var traced = builder.CreateResourceBuilder(project);
            foreach (var (name, value) in Traces.ExporterEnvironment)
            {
                traced.WithEnvironment(name, value);
            }
        }
        // Failures are tested too: let failed messages come back after a second, not five, and the notifier look often.
        foreach (var service in ServiceResources(builder))
        {
            service.WithEnvironment("EventBus__RedeliveryDelay", "00:00:01");
            if (service.Resource.Name == "notifier")
            {
                service.WithEnvironment("Notifier__CheckInterval", "00:00:02");
            }
        }
    }

    public Task InitializeAsync() => StartAsync();

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Traces.DisposeAsync();
    }
}
