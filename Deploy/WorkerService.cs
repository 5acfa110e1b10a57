using Amazon.CDK;
using Amazon.CDK.AWS.ApplicationAutoScaling;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.ECS;
using Constructs;
using Pipeline.Topology;
using Pipeline.Topology.Access;

namespace Deploy;

/// <summary>
/// One worker on Fargate: its task (<see cref="ServiceTask"/>), the ECS service with rollback on failed deployments,
/// and scaling on its queue backlog. Nothing connects to a worker.
/// </summary>
public sealed class WorkerService : Construct
{
    public WorkerService(PipelineStack stack, ServiceAccess access, DeploySettings settings, Cluster cluster, WorkerNetwork network, WorkerImages images)
        : base(stack, PipelineStack.Id("Worker", access.Name))
    {
        var task = new ServiceTask(this, stack, access, settings, images);
        var minTasks = MinTasks(access, settings);
        Access = access;
        var service = Service = new FargateService(this, "Service", new FargateServiceProps
        {
            ServiceName = stack.Topology.ServiceName(access.Name),
            Cluster = cluster,
            TaskDefinition = task.Definition,
            DesiredCount = minTasks,
            MinHealthyPercent = 100,
            MaxHealthyPercent = 200,
            CircuitBreaker = new DeploymentCircuitBreaker { Enable = true, Rollback = true },
            VpcSubnets = network.Subnets,
            SecurityGroups = [network.SecurityGroup],
            AssignPublicIp = network.AssignPublicIp,
        });
        service.Node.AddDependency([network.RouteOut, .. task.Policies, .. stack.StartAfter(access)]);

        BacklogScaling.Add(this, stack, access, service, cluster, settings, minTasks);
    }

    public ServiceAccess Access { get; }

    public FargateService Service { get; }

    /// <summary>The Notifier's failure watcher must always run (dead letters, stalled batches): it keeps at least one task.</summary>
    public static int MinTasks(ServiceAccess access, DeploySettings settings) =>
        access.WatchesDeadLetters.Count > 0 ? Math.Max(1, settings.MinTasks) : settings.MinTasks;
}

/// <summary>
/// Scaling on the backlog of the queues a worker consumes (messages waiting plus in flight, from SQS's metrics): with
/// any backlog, exactly one task per <see cref="DeploySettings.BacklogPerTask"/> messages (rounded up, within min and
/// max), so a batch arriving at a worker scaled to zero starts one; after <see cref="DeploySettings.IdleMinutes"/>
/// without backlog, back to the minimum.
/// </summary>
internal static class BacklogScaling
{
    public static void Add(
        Construct scope, PipelineStack stack, ServiceAccess access, FargateService service, Cluster cluster, DeploySettings settings, int minTasks)
    {
        var target = new CfnScalableTarget(scope, "ScalableTarget", new CfnScalableTargetProps
        {
            ServiceNamespace = "ecs",
            ScalableDimension = "ecs:service:DesiredCount",
            ResourceId = Fn.Join("/", ["service", cluster.ClusterName, service.ServiceName]),
            MinCapacity = minTasks,
            MaxCapacity = settings.MaxTasks,
        });

        var busy = StepPolicy(scope, "ScaleOnBacklog", stack.Topology.ServicePolicyName(access.Name, "backlog"), target, cooldownSeconds: 60,
            Enumerable.Range(1, settings.MaxTasks).Select(tasks => new CfnScalingPolicy.StepAdjustmentProperty
            {
                MetricIntervalLowerBound = (tasks - 1) * settings.BacklogPerTask,
                MetricIntervalUpperBound = tasks == settings.MaxTasks ? null : tasks * settings.BacklogPerTask,
                ScalingAdjustment = tasks,
            }));
        var idle = StepPolicy(scope, "ScaleInWhenIdle", stack.Topology.ServicePolicyName(access.Name, "idle"), target, cooldownSeconds: 300,
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
