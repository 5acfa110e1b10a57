using Amazon.Runtime;
using Aws.Sns;
using Emulators;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using ServiceDefaults.Aws;

namespace Pipeline.Testing;

/// <summary>
/// The real AppHost in emulator mode: fauxqs and dynalite on random ports, the provisioner run to completion, and
/// every service healthy. Subclasses change the app model before it is built (<see cref="Configure"/>) and act
/// between the provisioning and the services' health (<see cref="OnProvisionedAsync"/>).
/// </summary>
public class EmulatorApp : IAsyncDisposable
{
    /// <summary>The pipeline's services (queue workers).</summary>
    public static readonly string[] Services = ["validate", "transform", "compute", "notifier"];

    /// <summary>The web front ends the AppHost runs beside them.</summary>
    public static readonly string[] WebApps = ["dashboard"];

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>Where the emulators are, for the tests' own clients (straight to them).</summary>
    public AwsOptions Aws { get; private set; } = null!;

    public BasicAWSCredentials Credentials { get; } = new(EmulatorInstallation.AccessKeyId, EmulatorInstallation.SecretAccessKey);

    /// <summary>What the resources write: every line of the start (until every service is healthy), and the latest ones.</summary>
    public ResourceLogs Logs { get; } = new();

    protected virtual TimeSpan StartupTimeout => TimeSpan.FromMinutes(3);

    public async Task StartAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--Aws:Emulator=emulators", "--DcpPublisher:WaitForResourceCleanup=false"]);
        // The resources' own logs are kept in Logs; echoed to the console they would bury a test's or benchmark's output.
        builder.Services.AddLogging(logging => logging.AddFilter("AppHost.Resources", LogLevel.Warning)
            .AddFilter("Aspire.Hosting", LogLevel.Warning).AddFilter("System.Net.Http.HttpClient", LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Error)
            .AddProvider(Logs).AddFilter<ResourceLogs>(ResourceLogs.CategoryPrefix, LogLevel.Trace));
        Configure(builder);
        App = await builder.BuildAsync();

        using var timeout = new CancellationTokenSource(StartupTimeout);
        await App.StartAsync(timeout.Token);
        await App.ResourceNotifications.WaitForResourceAsync("provisioner", KnownResourceStates.Finished, timeout.Token);
        Aws = new AwsOptions
        {
            Region = EmulatorInstallation.Region,
            ServiceUrl = Loopback(App.GetEndpoint("aws-emulator", "http")),
            ServiceUrls = { ["DynamoDB"] = Loopback(App.GetEndpoint("dynamodb-emulator", "http")) },
        };
        await OnProvisionedAsync(timeout.Token);
        await Task.WhenAll(Services.Concat(WebApps).Select(s => WaitUntilHealthyAsync(s, timeout.Token)));
        await WaitForWarmUpLinesAsync();
        Logs.MarkStarted();
    }

    /// <summary>
    /// A service is healthy once it has warmed up, but its console lines reach <see cref="Logs"/> on their own path, and
    /// can come after Aspire saw it healthy: the start ends once each service's "Warmed up in" line is read (or after 10 s).
    /// </summary>
    private async Task WaitForWarmUpLinesAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline
            && !Services.All(s => Logs.Startup.Any(l => l.Resource == s && l.Text.Contains("Warmed up in", StringComparison.Ordinal))))
        {
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Every instance of <paramref name="name"/> healthy: Aspire's wait fails fast when the resource cannot start, but
    /// returns once one instance is healthy, so with replicas (<c>WithReplicas</c>) it waits until as many are.
    /// </summary>
    private async Task WaitUntilHealthyAsync(string name, CancellationToken cancellationToken)
    {
        await App.ResourceNotifications.WaitForResourceHealthyAsync(name, cancellationToken);
        var resource = App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == name);
        var replicas = resource.Annotations.OfType<ReplicaAnnotation>().SingleOrDefault()?.Replicas ?? 1;
        var healthy = new HashSet<string>();
        await App.ResourceNotifications.WaitForResourceAsync(name, e =>
        {
            if (e.Snapshot.HealthStatus == HealthStatus.Healthy)
            {
                healthy.Add(e.ResourceId);
            }
            return healthy.Count >= replicas;
        }, cancellationToken);
    }

    /// <summary>Changes the app model before it is built (the services' settings, say).</summary>
    protected virtual void Configure(IDistributedApplicationTestingBuilder builder)
    {
    }

    /// <summary>Runs once the provisioner has finished and <see cref="Aws"/> is known, before the services are waited for.</summary>
    protected virtual Task OnProvisionedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The services' project resources in <paramref name="builder"/>, to change their settings.</summary>
    protected static IEnumerable<IResourceBuilder<ProjectResource>> ServiceResources(IDistributedApplicationTestingBuilder builder) =>
        builder.Resources.OfType<ProjectResource>().Where(r => Services.Contains(r.Name)).Select(builder.CreateResourceBuilder).ToList();

    /// <summary>The services' latest log lines, for a failure message that says what the system was doing.</summary>
    public string RecentServiceLogs(int lines = 60) => string.Join('\n', Logs.Recent
        .Where(l => Services.Contains(l.Resource) || WebApps.Contains(l.Resource)).TakeLast(lines).Select(l => $"{l.Resource}: {l.Text}"));

    public SnsClient CreateSnsClient() => SnsClient.Create(AwsClientFactory.SnsOptions(Aws, Credentials));

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }
        await OnDisposedAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs once the app is disposed (what a subclass must release after it).</summary>
    protected virtual ValueTask OnDisposedAsync() => ValueTask.CompletedTask;

    private static Uri Loopback(Uri endpoint) => new UriBuilder(endpoint) { Host = "127.0.0.1" }.Uri;
}
