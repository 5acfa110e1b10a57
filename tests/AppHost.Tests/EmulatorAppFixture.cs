using Pipeline.Testing;

namespace AppHost.Tests;

/// <summary>The test classes that share one running AppHost (they run one after the other).</summary>
[CollectionDefinition(Name)]
public sealed class EmulatorAppCollection : ICollectionFixture<EmulatorAppFixture>
{
    public const string Name = "AppHost on the emulators";
}

/// <summary>
/// The real AppHost in emulator mode, started once for the collection (see <see cref="EmulatorApp"/>), with every span of
/// the collection's run in <see cref="TracedEmulatorApp.Traces"/>.
/// </summary>
public sealed class EmulatorAppFixture : TracedEmulatorApp, IAsyncLifetime
{
    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        base.Configure(builder);
        // Failures are tested too: let failed messages come back after a second, not five, and the notifier look often.
        foreach (var service in ServiceResources(builder))
        {
            service.WithEnvironment("EventBus__RedeliveryDelay", "00:00:01");
            if (service.Resource.Name == "notifier")
            {
                service.WithEnvironment("Notifier__CheckInterval", "00:00:02");
                // The freshness check lives on its own clock, far from every other test's days (FreshnessTests).
                service.WithEnvironment("Freshness__ClockStart", FreshnessClockStart.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                service.WithEnvironment("Freshness__CheckInterval", "00:00:02");
            }
        }
    }

    /// <summary>The Notifier's freshness "now" at its start: 6 January 2031, noon UTC (then real time goes on).</summary>
    public static readonly DateTimeOffset FreshnessClockStart = new(2031, 1, 6, 12, 0, 0, TimeSpan.Zero);

    public Task InitializeAsync() => StartAsync();

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();
}
