using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Docker.DotNet;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using Emulators;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Topology;
using Pipeline.Topology.Access;
using Pipeline.Topology.Provisioning;
using ServiceDefaults.Aws;

namespace Deploy.Tests;

/// <summary>
/// The four service images run the way ECS runs them: each container gets exactly the environment its synthesized
/// task definition gives it, the same health check command, a read-only root with a writable /tmp, and the emulators
/// (started here on the host) in place of AWS. Only the AWS endpoints and credentials (in AWS: the task role) are added,
/// and a port per service because the containers share the host's network (in ECS each task has its own).
/// </summary>
public sealed class ServiceContainers : IAsyncLifetime
{
    private static readonly TimeSpan HealthyTimeout = TimeSpan.FromMinutes(2);
    private static readonly SemaphoreSlim StartGate = new(1, 1);

    private readonly Dictionary<string, IContainer> _running = new(StringComparer.Ordinal);
    private readonly List<string> _finishedLogs = [];
    private LocalEmulator? _aws;
    private LocalEmulator? _dynamoDb;

    /// <summary>The synthesized template (the default settings), read as CloudFormation would.</summary>
    public JsonObject Template { get; private set; } = null!;

    /// <summary>The names the services are given (the stack's environment and its bucket, as CloudFormation resolves them here).</summary>
    public PipelineTopology Topology { get; private set; } = null!;

    public AwsOptions Aws { get; private set; } = null!;

    public AWSCredentials Credentials { get; } = new BasicAWSCredentials(EmulatorInstallation.AccessKeyId, EmulatorInstallation.SecretAccessKey);

    /// <summary>The port each service's container listens on (they share the host's network).</summary>
    public Dictionary<string, int> Ports { get; } = new(StringComparer.Ordinal);

    /// <summary>How long each service's first container took from start to a passing health check.</summary>
    public Dictionary<string, TimeSpan> StartToHealthy { get; } = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        if (ContainerEngine.WhyUnavailable is not null)
        {
            return; // the tests say why they are skipped
        }
        ContainerEngine.Configure();
        var template = DeployCommand.Synthesize(Settings, Directory.CreateTempSubdirectory("deploy-tests-synth-").FullName);
        Template = JsonNode.Parse(await File.ReadAllTextAsync(template))!.AsObject();
        Directory.Delete(Path.GetDirectoryName(template)!, recursive: true);
        var names = EnvironmentOf(ContainerDefinition("validate"));
        Topology = new PipelineTopology(names[TopologyExtensions.BucketNameKey.Replace(":", "__", StringComparison.Ordinal)],
            names[TopologyExtensions.EnvironmentKey.Replace(":", "__", StringComparison.Ordinal)]);

        var starting = (Aws: LocalEmulator.StartAsync(EmulatedService.Aws), DynamoDb: LocalEmulator.StartAsync(EmulatedService.DynamoDb));
        _aws = await starting.Aws;
        _dynamoDb = await starting.DynamoDb;
        Aws = new AwsOptions { Region = EmulatorInstallation.Region, ServiceUrl = _aws.ServiceUrl, ServiceUrls = { ["DynamoDB"] = _dynamoDb.ServiceUrl } };

        // In AWS the stack creates the resources; here the provisioner applies the same topology.
        using var s3 = AwsClientFactory.CreateS3(Aws, Credentials);
        using var sqs = AwsClientFactory.CreateSqs(Aws, Credentials);
        using var dynamoDb = AwsClientFactory.CreateDynamoDb(Aws, Credentials);
        await new TopologyProvisioner(s3, sqs, dynamoDb, global::Aws.Sns.SnsClient.Create(AwsClientFactory.SnsOptions(Aws, Credentials)),
            NullLogger<TopologyProvisioner>.Instance).ApplyAsync(Topology, CancellationToken.None);

        foreach (var (service, healthy) in await Task.WhenAll(ContainerEngine.Services.Select(async s => (s, await StartAsync(s)))))
        {
            StartToHealthy[service] = healthy;
        }
    }

    /// <summary>Starts a container of <paramref name="service"/> and waits for its health check; returns how long that took.</summary>
    public async Task<TimeSpan> StartAsync(string service)
    {
        var definition = ContainerDefinition(service);
        var environment = EnvironmentOf(definition);
        environment["Aws__ServiceUrl"] = Aws.ServiceUrl!.ToString();
        environment["Aws__ServiceUrls__DynamoDB"] = Aws.ServiceUrls["DynamoDB"].ToString();
        environment["AWS_ACCESS_KEY_ID"] = EmulatorInstallation.AccessKeyId;
        environment["AWS_SECRET_ACCESS_KEY"] = EmulatorInstallation.SecretAccessKey;
        Ports[service] = FreePort();
        environment["ASPNETCORE_HTTP_PORTS"] = Ports[service].ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (container, started) = await StartOneAtATimeAsync(
            () => Task.FromResult(new ContainerBuilder(ContainerEngine.Image(service))
                .WithName($"deploy-tests-{service}-{Guid.NewGuid():N}")
                .WithEnvironment(environment)
                .WithCreateParameterModifier(parameters =>
                {
                    RunAsEcs(parameters, definition);
                    parameters.StopTimeout = TimeSpan.FromSeconds((int)definition["StopTimeout"]!);
                })
                .Build()),
            container => container.StartAsync(), container => container.DisposeAsync().AsTask());
        _running[service] = container;
        var healthCheck = definition["HealthCheck"]!["Command"]!.AsArray().Skip(1).Select(c => (string)c!).ToList(); // after "CMD"
        while (true)
        {
            var probe = await container.ExecAsync(healthCheck);
            if (probe.ExitCode == 0)
            {
                return started.Elapsed;
            }
            if (started.Elapsed > HealthyTimeout)
            {
                throw new TimeoutException($"{service} was not healthy after {HealthyTimeout}: {probe.Stdout}{probe.Stderr}\n{await LogsAsync(container)}");
            }
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Creates and starts a container, one start at a time: podman 4.3 (Debian 12's, cgroups v1) now and then fails starts
    /// made side by side. It also now and then fails a start with a 500 ("write child: broken pipe", runc's sync pipe,
    /// testcontainers/testcontainers-java#6640; or runc's bare "exit status 1"), though the same container starts when asked
    /// again: that start is made again, with a new container, a second later and then longer, up to five times. A container
    /// whose start failed is removed. Returns the container and a stopwatch started when its turn came.
    /// </summary>
    private static async Task<(T Container, Stopwatch Started)> StartOneAtATimeAsync<T>(Func<Task<T>> create, Func<T, Task> start, Func<T, Task> remove)
    {
        await StartGate.WaitAsync();
        try
        {
            var started = Stopwatch.StartNew();
            for (var attempt = 1; ; attempt++)
            {
                var container = await create();
                try
                {
                    await start(container);
                    return (container, started);
                }
                catch (DockerApiException e) when (attempt < 5 && e.StatusCode == HttpStatusCode.InternalServerError)
                {
                    await remove(container);
                    await Task.Delay(TimeSpan.FromSeconds(attempt));
                }
                catch
                {
                    await remove(container);
                    throw;
                }
            }
        }
        finally
        {
            StartGate.Release();
        }
    }

    /// <summary>
    /// What ECS gives a task's container and the tests keep: the read-only root <paramref name="definition"/> asks for and a
    /// writable /tmp; the host's network.
    /// </summary>
    private static void RunAsEcs(CreateContainerParameters parameters, JsonObject definition)
    {
        parameters.HostConfig ??= new HostConfig();
        parameters.HostConfig.NetworkMode = "host";
        parameters.HostConfig.ReadonlyRootfs = (bool)definition["ReadonlyRootFilesystem"]!;
        parameters.HostConfig.Tmpfs = new Dictionary<string, string> { ["/tmp"] = "rw,exec,mode=1777" };
    }

    /// <summary>
    /// Sends SIGTERM to the service's container, as ECS does to stop a task, and waits for it to exit; returns its exit code
    /// and how long it took.
    /// </summary>
    public async Task<(long ExitCode, TimeSpan Took)> TerminateAsync(string service)
    {
        var container = _running[service];
        _running.Remove(service);
        using var docker = new DockerClientBuilder().WithEndpoint(new Uri(Environment.GetEnvironmentVariable("DOCKER_HOST")!)).Build();
        var watch = Stopwatch.StartNew();
        await docker.Containers.KillContainerAsync(container.Id, new ContainerKillParameters { Signal = "SIGTERM" });
        var exit = await docker.Containers.WaitContainerAsync(container.Id);
        var took = watch.Elapsed;
        _finishedLogs.Add($"--- {service} (terminated)\n{await LogsAsync(container)}");
        await container.DisposeAsync();
        return (exit.StatusCode, took);
    }

    /// <summary>
    /// Runs the reconciliation task's container to its end as ECS runs it: the <c>pipeline</c> command's image with the task
    /// definition's command, user and read-only root; only the emulators' endpoints (<c>--endpoint</c>, <c>--dynamodb-endpoint</c>:
    /// the command has no configuration file) and their credentials (in AWS: the task role) are added. Returns its exit code and output.
    /// </summary>
    public async Task<(long ExitCode, string Output)> RunReconciliationAsync(TimeSpan timeout)
    {
        var definition = ContainerDefinition(new PipelineServices(new PipelineTopology()).Reconciliation.Name, ContainerEngine.Command);
        List<string> command = [.. definition["Command"]!.AsArray().Select(c => Resolve(c!)), .. Aws.CliEndpointArguments()];
        List<string> environment = [.. (definition["Environment"]?.AsArray() ?? []).Select(e => $"{(string)e!["Name"]!}={Resolve(e["Value"]!)}"),
            $"AWS_ACCESS_KEY_ID={EmulatorInstallation.AccessKeyId}", $"AWS_SECRET_ACCESS_KEY={EmulatorInstallation.SecretAccessKey}"];
        using var docker = new DockerClientBuilder().WithEndpoint(new Uri(Environment.GetEnvironmentVariable("DOCKER_HOST")!)).Build();
        var (created, _) = await StartOneAtATimeAsync(
            () =>
            {
                var parameters = new CreateContainerParameters
                {
                    Name = $"deploy-tests-{ContainerEngine.Command}-{Guid.NewGuid():N}",
                    Image = ContainerEngine.Image(ContainerEngine.Command),
                    Cmd = command,
                    Env = environment,
                    User = (string)definition["User"]!,
                };
                RunAsEcs(parameters, definition);
                return docker.Containers.CreateContainerAsync(parameters);
            },
            container => docker.Containers.StartContainerAsync(container.ID, new ContainerStartParameters()), Remove);
        try
        {
            using var cancel = new CancellationTokenSource(timeout);
            var exit = await docker.Containers.WaitContainerAsync(created.ID, cancel.Token);
            using var logs = await docker.Containers.GetContainerLogsAsync(created.ID,
                new ContainerLogsParameters { ShowStdout = true, ShowStderr = true }, CancellationToken.None);
            var (stdout, stderr) = await logs.ReadOutputToEndAsync(CancellationToken.None);
            return (exit.StatusCode, stdout + stderr);
        }
        finally
        {
            await Remove(created);
        }

        Task Remove(CreateContainerResponse container) => docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true });
    }

    /// <summary>The containers' latest logs, for failure messages.</summary>
    public async Task<string> LogsAsync()
    {
        var logs = new List<string>(_finishedLogs);
        foreach (var (service, container) in _running)
        {
            logs.Add($"--- {service}\n{await LogsAsync(container)}");
        }
        return string.Join('\n', logs);
    }

    public async Task DisposeAsync()
    {
        foreach (var container in _running.Values)
        {
            await container.DisposeAsync();
        }
        if (_aws is not null) await _aws.DisposeAsync();
        if (_dynamoDb is not null) await _dynamoDb.DisposeAsync();
    }

    /// <summary>The stack's settings: the defaults.</summary>
    private static readonly DeploySettings Settings = new();

    private JsonObject ContainerDefinition(string service) => ContainerDefinition(service, service);

    /// <summary>The container <paramref name="container"/> of the task definition of <paramref name="task"/>.</summary>
    private JsonObject ContainerDefinition(string task, string container) =>
        Template["Resources"]!.AsObject().Select(r => r.Value!)
            .Where(r => (string?)r["Type"] == "AWS::ECS::TaskDefinition"
                && (string?)r["Properties"]!["Family"] == new PipelineTopology(environment: Settings.StackName).ServiceName(task))
            .Single()["Properties"]!["ContainerDefinitions"]!.AsArray()
            .Single(c => (string?)c!["Name"] == container)!.AsObject();

    private static Dictionary<string, string> EnvironmentOf(JsonObject definition) =>
        definition["Environment"]!.AsArray().ToDictionary(e => (string)e!["Name"]!, e => Resolve(e!["Value"]!));

    /// <summary>A value as CloudFormation would resolve it in the emulators' account and region; anything else is a test failure.</summary>
    private static string Resolve(JsonNode value) => value switch
    {
        JsonValue text => (string)text!,
        JsonObject { Count: 1 } o when o["Fn::Join"] is JsonArray join => string.Join((string)join[0]!, join[1]!.AsArray().Select(part => Resolve(part!))),
        JsonObject { Count: 1 } o when (string?)o["Ref"] == "AWS::Region" => EmulatorInstallation.Region,
        JsonObject { Count: 1 } o when (string?)o["Ref"] == "AWS::AccountId" => "000000000000", // fauxqs's account
        _ => throw new InvalidOperationException($"The task definition's environment has a value the test cannot resolve: {value.ToJsonString()}"),
    };

    private static async Task<string> LogsAsync(IContainer container)
    {
        var (stdout, stderr) = await container.GetLogsAsync();
        return string.Join('\n', (stdout + stderr).Split('\n').TakeLast(80));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
