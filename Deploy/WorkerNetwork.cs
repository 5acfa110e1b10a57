using Amazon.CDK;
using Amazon.CDK.AWS.EC2;
using Constructs;

namespace Deploy;

/// <summary>Where the workers run: a new VPC, or an existing one named by id and subnet ids (no look-ups at synth).</summary>
public sealed class WorkerNetwork
{
    public WorkerNetwork(Construct scope, DeploySettings settings)
    {
        if (settings.VpcId is { } vpcId)
        {
            Vpc = Amazon.CDK.AWS.EC2.Vpc.FromVpcAttributes(scope, "Vpc", new VpcAttributes
            {
                VpcId = vpcId,
                AvailabilityZones = settings.SubnetIds.Select((_, i) => Fn.Select(i, Fn.GetAzs())).ToArray(),
                PrivateSubnetIds = settings.SubnetIds.ToArray(),
            });
            Subnets = new SubnetSelection { Subnets = settings.SubnetIds.Select((id, i) => Subnet.FromSubnetId(scope, $"Subnet{i}", id)).ToArray() };
        }
        else
        {
            // Without NAT gateways the tasks sit in public subnets with public addresses (cheaper; nothing can reach in).
            // Nothing gets a public address by default: the NAT gateway has its own, and the service asks for one when it needs it.
            var privateTasks = settings.NatGateways > 0;
            var vpc = new Vpc(scope, "Vpc", new VpcProps
            {
                MaxAzs = DeploySettings.Zones,
                NatGateways = settings.NatGateways,
                SubnetConfiguration = privateTasks
                    ?
                    [
                        new SubnetConfiguration { Name = "public", SubnetType = SubnetType.PUBLIC, CidrMask = 24, MapPublicIpOnLaunch = false },
                        new SubnetConfiguration { Name = "tasks", SubnetType = SubnetType.PRIVATE_WITH_EGRESS, CidrMask = 22 },
                    ]
                    : [new SubnetConfiguration { Name = "public", SubnetType = SubnetType.PUBLIC, CidrMask = 24, MapPublicIpOnLaunch = false }],
            });
            Subnets = new SubnetSelection { SubnetType = privateTasks ? SubnetType.PRIVATE_WITH_EGRESS : SubnetType.PUBLIC };
            AssignPublicIp = !privateTasks;
            GatewayEndpoints.Add(vpc, Subnets);
            Vpc = vpc;
        }

        // The workers only call AWS APIs and pull images, all over HTTPS; nothing may connect to them.
        SecurityGroup = new SecurityGroup(scope, "WorkersSecurityGroup", new SecurityGroupProps
        {
            Vpc = Vpc,
            Description = "Pipeline workers: no inbound, HTTPS out",
            AllowAllOutbound = false,
        });
        SecurityGroup.AddEgressRule(Peer.AnyIpv4(), Port.Tcp(443), "AWS APIs and image pulls");
    }

    public IVpc Vpc { get; }

    public SubnetSelection Subnets { get; }

    public bool AssignPublicIp { get; }

    public SecurityGroup SecurityGroup { get; }

    /// <summary>
    /// The tasks' subnets' way out (a new VPC's default routes, to its NAT gateways or internet gateway): a service waits for
    /// it, or its first tasks would start without a route to AWS and the image registry. Nothing for an existing VPC.
    /// </summary>
    public IDependable RouteOut => Vpc.SelectSubnets(Subnets).InternetConnectivityEstablished;
}
