using Amazon.CDK;
using Amazon.CDK.AWS.ECS;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Logs;
using Constructs;
using Pipeline.Topology;
using Pipeline.Topology.Access;

namespace Deploy;

/// <summary>
/// What every service of the pipeline runs as, worker or dashboard: its task role (exactly its access declaration),
/// the service container and the telemetry collector beside it, logs, and a health check the image itself answers.
/// </summary>
public sealed class ServiceTask
{
    /// <summary>The port the images listen on (ASPNETCORE_HTTP_PORTS in the image).</summary>
    public const int HttpPort = 8080;

    /// <summary>The user of the images (the SDK's non-root "app" user, by number).</summary>
    public const string ImageUser = "1654";

    /// <summary>The ADOT collector image's own non-root user.</summary>
    public const string CollectorUser = "10001";

    /// <summary>The collector's share of the task's memory; the service has the rest.</summary>
    public const int CollectorMemoryMiB = 128;

    /// <summary>How long a task may take to become ready before failed health checks count (and the dashboard's load balancer's).</summary>
    public static readonly TimeSpan StartPeriod = TimeSpan.FromSeconds(120);

    /// <summary>A stop lets in-flight batches finish (Fargate's longest); the bus releases what is still running after its own timeout.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(120);

    public ServiceTask(Construct scope, PipelineStack stack, ServiceAccess access, DeploySettings settings, WorkerImages images)
    {
        var name = access.Name;
        var topology = stack.Topology;
        var logs = TaskLogs(scope, topology, name, settings);
        var taskRole = TaskRole(scope, $"The {name} service: exactly what Pipeline.Topology's access declaration of {name} names");
        var accessPolicy = new Policy(scope, "AccessPolicy", new PolicyProps
        {
            PolicyName = topology.ServicePolicyName(name, AccessPolicy),
            Roles = [taskRole],
            Statements = Statements(stack, access),
        });
        var telemetryPolicy = new Policy(scope, "TelemetryPolicy", new PolicyProps
        {
            PolicyName = topology.ServicePolicyName(name, TelemetryPolicy),
            Roles = [taskRole],
            Statements =
            [
                new PolicyStatement(new PolicyStatementProps { Actions = ["logs:CreateLogStream", "logs:PutLogEvents"], Resources = [logs.LogGroupArn] }),
                // X-Ray has no resource-level permissions: trace segments can only be allowed on "*" (see docs/deploy.md).
                new PolicyStatement(new PolicyStatementProps { Actions = ["xray:PutTraceSegments"], Resources = ["*"] }),
            ],
        });

        Policies = [accessPolicy, telemetryPolicy];

        var task = Definition = TaskDefinitionOf(scope, topology, name, settings, taskRole);
        // The root file system is read-only; temporary files (Transform's enriched parts) go to the task's own storage.
        task.AddVolume(new Amazon.CDK.AWS.ECS.Volume { Name = "tmp" });

        var app = task.AddContainer("App", new ContainerDefinitionOptions
        {
            ContainerName = name,
            Image = images.Service(name),
            Environment = Environment(topology, name,
                name == new PipelineServices(topology).Notifier.Name ? settings.NotifierEnvironment() : new Dictionary<string, string>()),
            Logging = LogDrivers.AwsLogs(new AwsLogDriverProps { LogGroup = logs, StreamPrefix = "app" }),
            PortMappings = [new PortMapping { ContainerPort = HttpPort }],
            ReadonlyRootFilesystem = true,
            User = ImageUser,
            MemoryLimitMiB = settings.TaskMemoryMiB - CollectorMemoryMiB,
            HealthCheck = new Amazon.CDK.AWS.ECS.HealthCheck
            {
                // The image has no shell or curl: the service binary probes its own /alive and exits 0 or 1. Liveness, which
                // passes once the service has been ready (AWS reachable, warmed up) since its start: an AWS outage later does
                // not make ECS replace every task. StartPeriod gives a slow start (a warm-up on a fraction of a vCPU) room.
                Command = ["CMD", Executable(name), "--health-check"],
                Interval = Duration.Seconds(30),
                Timeout = Duration.Seconds(5),
                Retries = 3,
                StartPeriod = Duration.Seconds(StartPeriod.TotalSeconds),
            },
            StopTimeout = Duration.Seconds(StopTimeout.TotalSeconds),
        });
        app.AddMountPoints(new MountPoint { ContainerPath = "/tmp", SourceVolume = "tmp", ReadOnly = false });

        task.AddContainer("Collector", new ContainerDefinitionOptions
        {
            ContainerName = "otel-collector",
            Image = images.Collector,
            // Losing telemetry must not stop the work.
            Essential = false,
            MemoryLimitMiB = CollectorMemoryMiB,
            ReadonlyRootFilesystem = true,
            User = CollectorUser,
            Environment = new Dictionary<string, string> { ["AOT_CONFIG_CONTENT"] = TelemetryCollector.Config(topology.LogGroupName(name)) },
            Logging = LogDrivers.AwsLogs(new AwsLogDriverProps { LogGroup = logs, StreamPrefix = "otel-collector" }),
        });
    }

    public FargateTaskDefinition Definition { get; }

    /// <summary>The task role's policies: the service's tasks wait for them (and so for the resources they name), not only for the role.</summary>
    public IReadOnlyList<Policy> Policies { get; }

    /// <summary>The purpose in the name of the task role's policy of what the service calls (<c>pipeline-validate-access</c>).</summary>
    public const string AccessPolicy = "access";

    /// <summary>The purpose in the name of the task role's policy for the collector sidecar (<c>pipeline-validate-telemetry</c>).</summary>
    public const string TelemetryPolicy = "telemetry";

    /// <summary>
    /// The log group of <paramref name="name"/>'s tasks (<c>Logs</c> in <paramref name="scope"/>), kept
    /// <see cref="DeploySettings.LogRetentionDays"/> and removed with the stack.
    /// </summary>
    public static LogGroup TaskLogs(Construct scope, PipelineTopology topology, string name, DeploySettings settings)
    {
        var logs = new LogGroup(scope, "Logs", new LogGroupProps { LogGroupName = topology.LogGroupName(name), RemovalPolicy = RemovalPolicy.DESTROY });
        ((CfnLogGroup)logs.Node.DefaultChild!).RetentionInDays = settings.LogRetentionDays;
        return logs;
    }

    /// <summary>The role a task runs as (<c>TaskRole</c> in <paramref name="scope"/>); its policies are the caller's.</summary>
    public static Role TaskRole(Construct scope, string description) =>
        new(scope, "TaskRole", new RoleProps { AssumedBy = new ServicePrincipal("ecs-tasks.amazonaws.com"), Description = description });

    /// <summary>
    /// The Fargate task definition of <paramref name="name"/> (<c>Task</c> in <paramref name="scope"/>): its family, the task size of
    /// <paramref name="settings"/>, <paramref name="role"/>, and x86-64 Linux (what the images are built for).
    /// </summary>
    public static FargateTaskDefinition TaskDefinitionOf(Construct scope, PipelineTopology topology, string name, DeploySettings settings, IRole role) =>
        new(scope, "Task", new FargateTaskDefinitionProps
        {
            Family = topology.ServiceName(name),
            Cpu = settings.TaskCpu,
            MemoryLimitMiB = settings.TaskMemoryMiB,
            TaskRole = role,
            RuntimePlatform = new RuntimePlatform { CpuArchitecture = CpuArchitecture.X86_64, OperatingSystemFamily = OperatingSystemFamily.LINUX },
        });

    /// <summary>The statements of an access declaration: its permissions, one statement per resource.</summary>
    public static PolicyStatement[] Statements(PipelineStack stack, ServiceAccess access) =>
        access.Permissions(stack.Topology).GroupBy(p => p.Resource)
            .Select(g => new PolicyStatement(new PolicyStatementProps { Actions = g.Select(p => p.Action).ToArray(), Resources = [stack.ArnOf(g.Key)] }))
            .ToArray();

    /// <summary>The service binary inside its image (the SDK puts the app in /app; self-contained, so the apphost is the entry point).</summary>
    public static string Executable(string service) => $"/app/{ProjectName(service)}";

    /// <summary>The project a service's image is built from: Services.Validate for validate.</summary>
    public static string ProjectName(string service) => $"Services.{char.ToUpperInvariant(service[0])}{service[1..]}";

    /// <summary>
    /// What the service reads from its environment in AWS (its names: the environment and the bucket; and its own settings, such as
    /// the Notifier's freshness check); credentials come from the task role.
    /// </summary>
    private static Dictionary<string, string> Environment(PipelineTopology topology, string name, IReadOnlyDictionary<string, string> own)
    {
        var environment = new Dictionary<string, string>
        {
            ["Aws__Region"] = Amazon.CDK.Aws.REGION,
            ["Aws__AccountId"] = Amazon.CDK.Aws.ACCOUNT_ID,
            [EnvironmentVariable(TopologyExtensions.EnvironmentKey)] = topology.Environment,
            [EnvironmentVariable(TopologyExtensions.BucketNameKey)] = topology.Bucket.Name,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = TelemetryCollector.OtlpEndpoint,
            ["OTEL_SERVICE_NAME"] = name,
            ["Logging__Console__FormatterName"] = "json",
        };
        foreach (var (key, value) in own)
        {
            environment.Add(key, value);
        }
        return environment;
    }

    /// <summary>A configuration key as an environment variable (<c>Pipeline:BucketName</c> is <c>Pipeline__BucketName</c>).</summary>
    private static string EnvironmentVariable(string key) => key.Replace(":", "__", StringComparison.Ordinal);
}
