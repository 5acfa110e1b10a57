using Amazon.Runtime;
using Aws.Sns;
using Emulators;
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

    public async Task InitializeAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--Aws:Emulator=emulators", "--DcpPublisher:WaitForResourceCleanup=false"]);
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

        Aws = new AwsOptions
        {
            Region = EmulatorInstallation.Region,
            ServiceUrl = Loopback(App.GetEndpoint("aws-emulator", "http")),
            ServiceUrls = { ["DynamoDB"] = Loopback(App.GetEndpoint("dynamodb-emulator", "http")) },
        };
    }

    public SnsClient CreateSnsClient() => SnsClient.Create(AwsClientFactory.SnsOptions(Aws, Credentials));

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }
    }

    private static Uri Loopback(Uri endpoint) => new UriBuilder(endpoint) { Host = "127.0.0.1" }.Uri;
}
