using Amazon.CDK;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.ECS;
using Amazon.CDK.AWS.ElasticLoadBalancingV2;
using Constructs;
using Pipeline.Topology.Access;

namespace Deploy;

/// <summary>
/// The KPI dashboard on Fargate behind an internal Application Load Balancer: the load balancer has no public address
/// and admits only <see cref="DeploySettings.DashboardAllowedCidr"/> (by default the VPC itself: people reach it over
/// the company's VPN or Direct Connect, or a bastion's port forwarding); with a certificate it also signs people in
/// (<see cref="DashboardSignIn"/>); the tasks admit only the load balancer. The
/// task role is the dashboard's read-only access declaration. One task: the dashboard is light, and its alerts queue
/// gives each alert to one reader (see docs/dashboard.md).
/// </summary>
public sealed class DashboardService : Construct
{
    public const int HttpListenerPort = 80;
    public const int HttpsListenerPort = 443;
    /// <summary>Liveness, as the container's own health check: readiness (AWS reachable) gates only the task's start.</summary>
    public const string HealthCheckPath = "/alive";

    public DashboardService(PipelineStack stack, ServiceAccess access, DeploySettings settings, Cluster cluster, WorkerNetwork network, WorkerImages images)
        : base(stack, "Dashboard")
    {
        var task = new ServiceTask(this, stack, access, settings, images);

        var allowed = settings.DashboardAllowedCidr ?? network.Vpc.VpcCidrBlock;
        var listenerPort = settings.DashboardCertificateArn is null ? HttpListenerPort : HttpsListenerPort;
        var balancerGroup = new SecurityGroup(this, "LoadBalancerSecurityGroup", new SecurityGroupProps
        {
            Vpc = network.Vpc,
            Description = "Dashboard load balancer: the allowed network in, the dashboard tasks out", // EC2 refuses an apostrophe here
            AllowAllOutbound = false,
        });
        balancerGroup.AddIngressRule(Peer.Ipv4(allowed), Port.Tcp(listenerPort), "Who may open the dashboard (dashboardAllowedCidr)");
        var taskGroup = new SecurityGroup(this, "TasksSecurityGroup", new SecurityGroupProps
        {
            Vpc = network.Vpc,
            Description = "Dashboard tasks: the load balancer in, HTTPS out",
            AllowAllOutbound = false,
        });
        taskGroup.AddEgressRule(Peer.AnyIpv4(), Port.Tcp(443), "AWS APIs and image pulls");
        balancerGroup.Connections.AllowTo(taskGroup, Port.Tcp(ServiceTask.HttpPort), "The load balancer to the dashboard");

        var balancer = new ApplicationLoadBalancer(this, "LoadBalancer", new ApplicationLoadBalancerProps
        {
            Vpc = network.Vpc,
            InternetFacing = false,
            VpcSubnets = network.Subnets,
            SecurityGroup = balancerGroup,
            DropInvalidHeaderFields = true,
        });
        var listener = balancer.AddListener("Listener", new BaseApplicationListenerProps
        {
            Port = listenerPort,
            Protocol = settings.DashboardCertificateArn is null ? ApplicationProtocol.HTTP : ApplicationProtocol.HTTPS,
            Certificates = settings.DashboardCertificateArn is { } certificate ? [ListenerCertificate.FromArn(certificate)] : null,
            SslPolicy = settings.DashboardCertificateArn is null ? null : SslPolicy.RECOMMENDED_TLS,
            // The security group above says who may connect; CDK would otherwise open the listener to the world.
            Open = false,
        });

        var service = new FargateService(this, "Service", new FargateServiceProps
        {
            ServiceName = stack.Topology.ServiceName(access.Name),
            Cluster = cluster,
            TaskDefinition = task.Definition,
            DesiredCount = 1,
            MinHealthyPercent = 100,
            MaxHealthyPercent = 200,
            CircuitBreaker = new DeploymentCircuitBreaker { Enable = true, Rollback = true },
            VpcSubnets = network.Subnets,
            SecurityGroups = [taskGroup],
            AssignPublicIp = network.AssignPublicIp,
            HealthCheckGracePeriod = Duration.Seconds(ServiceTask.StartPeriod.TotalSeconds),
        });
        service.Node.AddDependency([network.RouteOut, .. task.Policies, .. stack.StartAfter(access)]);
        TargetGroup = new ApplicationTargetGroup(listener, "TasksGroup", new ApplicationTargetGroupProps
        {
            Vpc = network.Vpc,
            Port = ServiceTask.HttpPort,
            Protocol = ApplicationProtocol.HTTP,
            Targets = [service],
            // Blazor Server keeps a circuit per tab: the same task answers a reader's connection.
            StickinessCookieDuration = Duration.Hours(1),
            DeregistrationDelay = Duration.Seconds(30),
            HealthCheck = new Amazon.CDK.AWS.ElasticLoadBalancingV2.HealthCheck
            {
                Path = HealthCheckPath,
                HealthyHttpCodes = "200",
                Interval = Duration.Seconds(15),
                Timeout = Duration.Seconds(5),
                HealthyThresholdCount = 2,
                UnhealthyThresholdCount = 3,
            },
        });

        // Sign-in first when the settings ask for it (DashboardSignIn), then to the tasks.
        listener.AddAction("Tasks", new AddApplicationActionProps { Action = DashboardSignIn.Action(this, settings, ListenerAction.Forward([TargetGroup])) });

        _ = new CfnOutput(stack, StackOutputNames.DashboardUrl, new CfnOutputProps
        {
            Description = "The KPI dashboard (inside the VPC and the allowed network only)",
            Value = $"{(settings.DashboardCertificateArn is null ? "http" : "https")}://{settings.DashboardDomainName ?? balancer.LoadBalancerDnsName}",
        });
    }

    /// <summary>The dashboard's tasks as the load balancer sees them (their health is an operations alarm).</summary>
    public ApplicationTargetGroup TargetGroup { get; }
}
