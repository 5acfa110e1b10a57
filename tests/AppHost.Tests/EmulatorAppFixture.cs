using Amazon.Runtime;
using Aws.Sns;
using Emulators;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Testing;
using ServiceDefaults.Aws;

namespace AppHost.Tests;

/// <summary>The test classes that share one running AppHost (they run one after the other).</summary>
[CollectionDefinition(Name)]
public sealed class EmulatorAppCollection : ICollectionFixture<EmulatorAppFixture>
{
    public const string Name = "AppHost on the emulators";
}

/// <summary>
/// The real AppHost in emulator mode, started once for the collection: fauxqs and dynalite on random ports,
/// the provisioner run to completion, and every service healthy.
/// </summary>
public sealed class EmulatorAppFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromMinutes(3);

    public DistributedApplication App { get; private set; } = null!;

    public AwsOptions Aws { get; private set; } = null!;

    public BasicAWSCredentials Credentials { get; } = new(EmulatorInstallation.AccessKeyId, EmulatorInstallation.SecretAccessKey);

    public static readonly string[] Services = ["validate", "transform", "compute", "notifier"];

    /// <summary>What the services' OTLP exporters send (as the dashboard would get it): every span of the collection's run.</summary>
    public OtlpTraceReceiver Traces { get; } = OtlpTraceReceiver.Start();

    public async Task InitializeAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--Aws:Emulator=emulators", "--DcpPublisher:WaitForResourceCleanup=false"]);
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            var traced = builder.CreateResourceBuilder(project);
            foreach (var (name, value) in Traces.ExporterEnvironment)
            {
                traced.WithEnvironment(name, value);
            }
        }
        // Failures are tested too: let failed messages come back after a second, not five, and the notifier look often.
        foreach (var service in builder.Resources.OfType<ProjectResource>().Where(r => Services.Contains(r.Name)))
        {
            builder.CreateResourceBuilder(service).WithEnvironment("EventBus__RedeliveryDelay", "00:00:01");
        }
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "notifier"))
            .WithEnvironment("Notifier__CheckInterval", "00:00:02");
        App = await builder.BuildAsync();

        using var timeout = new CancellationTokenSource(StartupTimeout);
        await App.StartAsync(timeout.Token);
        await App.ResourceNotifications.WaitForResourceAsync("provisioner", KnownResourceStates.Finished, timeout.Token);
        await Task.WhenAll(Services.Select(s => App.ResourceNotifications.WaitForResourceHealthyAsync(s, timeout.Token)));

        foreach (var service in Services)
        {
            _logWatchers.Add(CollectLogsAsync(service, _stopLogs.Token));
        }

        Aws = new AwsOptions
        {
            Region = EmulatorInstallation.Region,
            ServiceUrl = Loopback(App.GetEndpoint("aws-emulator", "http")),
            ServiceUrls = { ["DynamoDB"] = Loopback(App.GetEndpoint("dynamodb-emulator", "http")) },
        };
    }

    private readonly List<Task> _logWatchers = [];
    private readonly CancellationTokenSource _stopLogs = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _serviceLogs = new();

    /// <summary>The services' latest log lines, for a failure message that says what the system was doing.</summary>
    public string RecentServiceLogs(int lines = 60) => string.Join('\n', _serviceLogs.TakeLast(lines));

    private async Task CollectLogsAsync(string service, CancellationToken cancellationToken)
    {
        try
        {
            var logs = App.Services.GetRequiredService<ResourceLoggerService>();
            await foreach (var batch in logs.WatchAsync(service).WithCancellation(cancellationToken))
            {
                foreach (var line in batch)
                {
                    _serviceLogs.Enqueue($"{service}: {line.Content}");
                }
                while (_serviceLogs.Count > 2_000 && _serviceLogs.TryDequeue(out _))
                {
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public SnsClient CreateSnsClient() => SnsClient.Create(AwsClientFactory.SnsOptions(Aws, Credentials));

    public async Task DisposeAsync()
    {
        await _stopLogs.CancelAsync();
        await Task.WhenAll(_logWatchers);
        if (App is not null)
        {
            await App.DisposeAsync();
        }
        await Traces.DisposeAsync();
    }

    private static Uri Loopback(Uri endpoint) => new UriBuilder(endpoint) { Host = "127.0.0.1" }.Uri;
}
