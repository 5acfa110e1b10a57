using Amazon.CDK;
using Amazon.CDK.AWS.ECS;
using Amazon.CDK.AWS.IAM;
using Constructs;
using Pipeline.Topology;
using Pipeline.Topology.Access;
using CfnRule = Amazon.CDK.AWS.Events.CfnRule;
using CfnRuleProps = Amazon.CDK.AWS.Events.CfnRuleProps;

namespace Deploy;

/// <summary>
/// The reconciliation of the KPI tables with the archive as a scheduled Fargate task: the <c>pipeline</c> command's image
/// (<see cref="CliImage"/>) running <c>pipeline reconcile --publish</c> on an EventBridge schedule
/// (<see cref="DeploySettings.ReconcileSchedule"/>), its result published for the Notifier (logged when equal, an alert when
/// not). Its task role is exactly <see cref="PipelineServices.Reconciliation"/> (reads only), and
/// <see cref="PipelineServices.Rebuild"/> as a second policy only with <see cref="DeploySettings.ReconcileMayRebuild"/>, so
/// that <c>pipeline rebuild</c> can run as a one-off task of the same definition. No service runs it: nothing is up between runs.
/// </summary>
public sealed class ReconciliationTask : Construct
{
    /// <summary>The image of the <c>pipeline</c> command (<c>pipeline-cli</c>), built from Pipeline.Cli like the services' images.</summary>
    public const string CliImage = "cli";

    /// <summary>The purpose in the name of the task role's rebuild policy (<c>pipeline-reconcile-rebuild</c>).</summary>
    public const string RebuildPolicy = "rebuild";

    public ReconciliationTask(PipelineStack stack, PipelineServices services, DeploySettings settings, Cluster cluster, WorkerNetwork network,
        WorkerImages images)
        : base(stack, "Reconciliation")
    {
        var topology = stack.Topology;
        var access = services.Reconciliation;
        var logs = ServiceTask.TaskLogs(this, topology, access.Name, settings);
        var role = ServiceTask.TaskRole(this, $"pipeline {access.Name}: exactly what Pipeline.Topology's access declaration of {access.Name} names" +
            (settings.ReconcileMayRebuild ? ", and of rebuild" : ""));
        List<Policy> policies = [Policy(stack, access, ServiceTask.AccessPolicy, role)];
        if (settings.ReconcileMayRebuild)
        {
            policies.Add(Policy(stack, services.Rebuild, RebuildPolicy, role, policyOf: access));
        }

        Definition = ServiceTask.TaskDefinitionOf(this, topology, access.Name, settings, role);
        Definition.AddContainer("App", new ContainerDefinitionOptions
        {
            ContainerName = CliImage,
            Image = images.Service(CliImage),
            // The image's entry point is the command; the task's arguments say what to run, against this environment in AWS.
            Command = ["reconcile", "--publish", "--aws", "--region", Amazon.CDK.Aws.REGION, "--environment", topology.Environment,
                "--bucket", topology.Bucket.Name],
            Logging = LogDrivers.AwsLogs(new AwsLogDriverProps { LogGroup = logs, StreamPrefix = "app" }),
            ReadonlyRootFilesystem = true,
            User = ServiceTask.ImageUser,
            MemoryLimitMiB = settings.TaskMemoryMiB,
        });
        Definition.Node.AddDependency(policies.ToArray());

        if (settings.ReconcileSchedule is { } schedule)
        {
            Schedule = AddSchedule(stack, access, schedule, cluster, network, role);
        }
    }

    public FargateTaskDefinition Definition { get; }

    /// <summary>The EventBridge rule that starts the task; null when the schedule is off.</summary>
    public CfnRule? Schedule { get; }

    /// <summary>
    /// The rule, and the role EventBridge starts the task with: RunTask of this task definition on this cluster only, and
    /// PassRole of the task's two roles only (CDK's own ECS target would also allow tagging any task of the account).
    /// </summary>
    private CfnRule AddSchedule(PipelineStack stack, ServiceAccess access, string schedule, Cluster cluster, WorkerNetwork network, Role taskRole)
    {
        var events = new Role(this, "ScheduleRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("events.amazonaws.com"),
            Description = $"EventBridge starts the {access.Name} task on schedule",
        });
        events.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["ecs:RunTask"],
            Resources = [Definition.TaskDefinitionArn],
            Conditions = new Dictionary<string, object> { ["ArnEquals"] = new Dictionary<string, object> { ["ecs:cluster"] = cluster.ClusterArn } },
        }));
        events.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["iam:PassRole"],
            Resources = [taskRole.RoleArn, Definition.ObtainExecutionRole().RoleArn],
        }));
        var subnets = cluster.Vpc.SelectSubnets(network.Subnets).SubnetIds;
        return new CfnRule(this, "Schedule", new CfnRuleProps
        {
            Name = stack.Topology.ServicePolicyName(access.Name, "schedule"),
            Description = $"Runs pipeline reconcile --publish ({schedule})",
            ScheduleExpression = schedule,
            State = "ENABLED",
            Targets = new[]
            {
                new CfnRule.TargetProperty
                {
                    Id = "Reconcile",
                    Arn = cluster.ClusterArn,
                    RoleArn = events.RoleArn,
                    EcsParameters = new CfnRule.EcsParametersProperty
                    {
                        TaskDefinitionArn = Definition.TaskDefinitionArn,
                        TaskCount = 1,
                        LaunchType = "FARGATE",
                        NetworkConfiguration = new CfnRule.NetworkConfigurationProperty
                        {
                            AwsVpcConfiguration = new CfnRule.AwsVpcConfigurationProperty
                            {
                                Subnets = subnets,
                                SecurityGroups = [network.SecurityGroup.SecurityGroupId],
                                AssignPublicIp = network.AssignPublicIp ? "ENABLED" : "DISABLED",
                            },
                        },
                    },
                },
            },
        });
    }

    private Policy Policy(PipelineStack stack, ServiceAccess access, string purpose, Role role, ServiceAccess? policyOf = null) =>
        new(this, PipelineStack.Id("Policy", purpose), new PolicyProps
        {
            PolicyName = stack.Topology.ServicePolicyName((policyOf ?? access).Name, purpose),
            Roles = [role],
            Statements = ServiceTask.Statements(stack, access),
        });
}
