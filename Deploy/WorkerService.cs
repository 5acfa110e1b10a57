using Amazon.CDK;
using Amazon.CDK.AWS.ApplicationAutoScaling;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.ECS;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Logs;
using Constructs;
using Pipeline.Topology;
using Pipeline.Topology.Access;

namespace Deploy;

/// <summary>
/// One worker on Fargate: its task role (exactly its access declaration), the service container and the telemetry
/// collector beside it, logs, a health check the image itself answers, the ECS service with rollback on failed
/// deployments, and scaling on its queue backlog.
/// </summary>
public sealed class WorkerService : Construct
{
    /// <summary>The port the images listen on (ASPNETCORE_HTTP_PORTS in the image).</summary>
    public const int HttpPort = 8080;

    /// <summary>The user of the images (the SDK's non-root "app" user, by number).</summary>
    public const string ImageUser = "1654";

    /// <summary>The ADOT collector image's own non-root user.</summary>
    public const string CollectorUser = "10001";

    /// <summary>The collector's share of the task's memory; the service has the rest.</summary>
    public const int CollectorMemoryMiB = 128;

    /// <summary>A stop lets in-flight batches finish (Fargate's longest); the bus releases what is still running after its own timeout.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(120);

    public WorkerService(PipelineStack stack, ServiceAccess access, DeploySettings settings, Cluster cluster, WorkerNetwork network, WorkerImages images)
        : base(stack, PipelineStack.Id("Worker", access.Name))
    {
        var name = access.Name;
        var logs = new LogGroup(this, "Logs", new LogGroupProps { LogGroupName = LogGroupName(name), RemovalPolicy = RemovalPolicy.DESTROY });
        ((CfnLogGroup)logs.Node.DefaultChild!).RetentionInDays = settings.LogRetentionDays;

        var taskRole = new Role(this, "TaskRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("ecs-tasks.amazonaws.com"),
            Description = $"The {name} service: exactly what Pipeline.Topology's access declaration of {name} names",
        });
        _ = new Policy(this, "AccessPolicy", new PolicyProps
        {
            PolicyName = AccessPolicyName(name),
            Roles = [taskRole],
            Statements = access.Permissions(stack.Topology).GroupBy(p => p.Resource)
                .Select(g => new PolicyStatement(new PolicyStatementProps { Actions = g.Select(p => p.Action).ToArray(), Resources = [stack.ArnOf(g.Key)] }))
                .ToArray(),
        });
        _ = new Policy(this, "TelemetryPolicy", new PolicyProps
        {
            PolicyName = TelemetryPolicyName(name),
            Roles = [taskRole],
            Statements =
            [
                new PolicyStatement(new PolicyStatementProps { Actions = ["logs:CreateLogStream", "logs:PutLogEvents"], Resources = [logs.LogGroupArn] }),
                // X-Ray has no resource-level permissions: trace segments can only be allowed on "*" (see docs/deploy.md).
                new PolicyStatement(new PolicyStatementProps { Actions = ["xray:PutTraceSegments"], Resources = ["*"] }),
            ],
        });

        var task = new FargateTaskDefinition(this, "Task", new FargateTaskDefinitionProps
        {
            Family = WorkerImages.ImageName(name),
            Cpu = settings.TaskCpu,
            MemoryLimitMiB = settings.TaskMemoryMiB,
            TaskRole = taskRole,
            RuntimePlatform = new RuntimePlatform { CpuArchitecture = CpuArchitecture.X86_64, OperatingSystemFamily = OperatingSystemFamily.LINUX },
        });
        // The root file system is read-only; temporary files (Transform's enriched parts) go to the task's own storage.
        task.AddVolume(new Amazon.CDK.AWS.ECS.Volume { Name = "tmp" });

        var app = task.AddContainer("App", new ContainerDefinitionOptions
        {
            ContainerName = name,
            Image = images.Service(name),
            Environment = Environment(stack.Topology, name),
            Logging = LogDrivers.AwsLogs(new AwsLogDriverProps { LogGroup = logs, StreamPrefix = "app" }),
            PortMappings = [new PortMapping { ContainerPort = HttpPort }],
            ReadonlyRootFilesystem = true,
            User = ImageUser,
            MemoryLimitMiB = settings.TaskMemoryMiB - CollectorMemoryMiB,
            HealthCheck = new Amazon.CDK.AWS.ECS.HealthCheck
            {
                // The image has no shell or curl: the service binary probes its own /health and exits 0 or 1.
                Command = ["CMD", Executable(name), "--health-check"],
                Interval = Duration.Seconds(30),
                Timeout = Duration.Seconds(5),
                Retries = 3,
                StartPeriod = Duration.Seconds(60),
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
            Environment = new Dictionary<string, string> { ["AOT_CONFIG_CONTENT"] = TelemetryCollector.Config(LogGroupName(name)) },
            Logging = LogDrivers.AwsLogs(new AwsLogDriverProps { LogGroup = logs, StreamPrefix = "otel-collector" }),
        });

        var minTasks = MinTasks(access, settings);
        var service = new FargateService(this, "Service", new FargateServiceProps
        {
            ServiceName = WorkerImages.ImageName(name),
            Cluster = cluster,
            TaskDefinition = task,
            DesiredCount = minTasks,
            MinHealthyPercent = 100,
            MaxHealthyPercent = 200,
            CircuitBreaker = new DeploymentCircuitBreaker { Enable = true, Rollback = true },
            VpcSubnets = network.Subnets,
            SecurityGroups = [network.SecurityGroup],
            AssignPublicIp = network.AssignPublicIp,
        });

        BacklogScaling.Add(this, stack, access, service, cluster, settings, minTasks);
    }

    public static string LogGroupName(string service) => $"/pipeline/{service}";

    public static string AccessPolicyName(string service) => $"{service}-access";

    public static string TelemetryPolicyName(string service) => $"{service}-telemetry";

    /// <summary>The service binary inside its image (the SDK puts the app in /app; self-contained, so the apphost is the entry point).</summary>
    public static string Executable(string service) => $"/app/Services.{char.ToUpperInvariant(service[0])}{service[1..]}";

    /// <summary>The Notifier's failure watcher must always run (dead letters, stalled batches): it keeps at least one task.</summary>
    public static int MinTasks(ServiceAccess access, DeploySettings settings) =>
        access.WatchesDeadLetters.Count > 0 ? Math.Max(1, settings.MinTasks) : settings.MinTasks;

    /// <summary>What the service reads from its environment in AWS; credentials come from the task role.</summary>
    private static Dictionary<string, string> Environment(PipelineTopology topology, string name) => new()
    {
        ["Aws__Region"] = Amazon.CDK.Aws.REGION,
        ["Aws__AccountId"] = Amazon.CDK.Aws.ACCOUNT_ID,
        [TopologyExtensions.BucketNameKey.Replace(":", "__", StringComparison.Ordinal)] = topology.Bucket.Name,
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = TelemetryCollector.OtlpEndpoint,
        ["OTEL_SERVICE_NAME"] = name,
        ["Logging__Console__FormatterName"] = "json",
    };
}

/// <summary>
/// Scaling on the backlog of the queues a worker consumes (messages waiting plus in flight, from SQS's metrics): with
/// any backlog, exactly one task per <see cref="DeploySettings.BacklogPerTask"/> messages (rounded up, within min and
/// max), so a batch arriving at a worker scaled to zero starts one; after <see cref="DeploySettings.IdleMinutes"/>
/// without backlog, back to the minimum.
/// </summary>
internal static class BacklogScaling
{
    public static void Add(Construct scope, PipelineStack stack, ServiceAccess access, FargateService service, Cluster cluster, DeploySettings settings, int minTasks)
    {
        var target = new CfnScalableTarget(scope, "ScalableTarget", new CfnScalableTargetProps
        {
            ServiceNamespace = "ecs",
            ScalableDimension = "ecs:service:DesiredCount",
            ResourceId = Fn.Join("/", ["service", cluster.ClusterName, service.ServiceName]),
            MinCapacity = minTasks,
            MaxCapacity = settings.MaxTasks,
        });

        var busy = StepPolicy(scope, "ScaleOnBacklog", $"{access.Name}-backlog", target, cooldownSeconds: 60,
            Enumerable.Range(1, settings.MaxTasks).Select(tasks => new CfnScalingPolicy.StepAdjustmentProperty
            {
                MetricIntervalLowerBound = (tasks - 1) * settings.BacklogPerTask,
                MetricIntervalUpperBound = tasks == settings.MaxTasks ? null : tasks * settings.BacklogPerTask,
                ScalingAdjustment = tasks,
            }));
        var idle = StepPolicy(scope, "ScaleInWhenIdle", $"{access.Name}-idle", target, cooldownSeconds: 300,
            [new CfnScalingPolicy.StepAdjustmentProperty { MetricIntervalUpperBound = 0, ScalingAdjustment = minTasks }]);

        _ = new CfnAlarm(scope, "BacklogAlarm", new CfnAlarmProps
        {
            AlarmDescription = $"{access.Name}: messages waiting or in flight; sets the task count from the backlog",
            Metrics = Backlog(stack, access),
            ComparisonOperator = "GreaterThanThreshold",
            Threshold = 0,
            EvaluationPeriods = 1,
            TreatMissingData = "notBreaching",
            AlarmActions = [busy.Ref],
        });
        _ = new CfnAlarm(scope, "IdleAlarm", new CfnAlarmProps
        {
            AlarmDescription = $"{access.Name}: no backlog for {settings.IdleMinutes} minutes; back to the minimum",
            Metrics = Backlog(stack, access),
            ComparisonOperator = "LessThanOrEqualToThreshold",
            Threshold = 0,
            EvaluationPeriods = settings.IdleMinutes,
            DatapointsToAlarm = settings.IdleMinutes,
            // SQS stops reporting metrics for queues idle for hours: no data is idle.
            TreatMissingData = "breaching",
            AlarmActions = [idle.Ref],
        });
    }

    /// <summary>A step policy that sets the task count itself (ExactCapacity) from where the alarm's metric stands.</summary>
    private static CfnScalingPolicy StepPolicy(Construct scope, string id, string name, CfnScalableTarget target, int cooldownSeconds,
        IEnumerable<CfnScalingPolicy.StepAdjustmentProperty> steps) => new(scope, id, new CfnScalingPolicyProps
    {
        PolicyName = name,
        PolicyType = "StepScaling",
        ScalingTargetId = target.Ref,
        StepScalingPolicyConfiguration = new CfnScalingPolicy.StepScalingPolicyConfigurationProperty
        {
            AdjustmentType = "ExactCapacity",
            Cooldown = cooldownSeconds,
            MetricAggregationType = "Maximum",
            StepAdjustments = steps.ToArray(),
        },
    });

    /// <summary>The sum, over the queues the worker consumes, of messages visible and in flight (per minute, maximum).</summary>
    private static CfnAlarm.MetricDataQueryProperty[] Backlog(PipelineStack stack, ServiceAccess access)
    {
        var queries = new List<CfnAlarm.MetricDataQueryProperty>();
        foreach (var (queue, i) in access.Consumes.Select((q, i) => (q, i)))
        {
            queries.Add(QueueMetric($"visible{i}", "ApproximateNumberOfMessagesVisible", stack.QueueOf(queue).QueueName));
            queries.Add(QueueMetric($"inflight{i}", "ApproximateNumberOfMessagesNotVisible", stack.QueueOf(queue).QueueName));
        }
        queries.Add(new CfnAlarm.MetricDataQueryProperty
        {
            Id = "backlog",
            Label = $"{access.Name} backlog",
            Expression = string.Join(" + ", queries.Select(q => q.Id)),
            ReturnData = true,
        });
        return queries.ToArray();
    }

    private static CfnAlarm.MetricDataQueryProperty QueueMetric(string id, string metricName, string queueName) => new()
    {
        Id = id,
        ReturnData = false,
        MetricStat = new CfnAlarm.MetricStatProperty
        {
            Metric = new CfnAlarm.MetricProperty
            {
                Namespace = "AWS/SQS",
                MetricName = metricName,
                Dimensions = new[] { new CfnAlarm.DimensionProperty { Name = "QueueName", Value = queueName } },
            },
            Period = 60,
            Stat = "Maximum",
        },
    };
}
