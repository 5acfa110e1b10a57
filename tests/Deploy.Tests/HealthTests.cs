using Pipeline.Topology.Access;

namespace Deploy.Tests;

/// <summary>
/// ECS and the load balancer judge a task by its liveness, and its start by its readiness (ServiceDefaults' StartupGate);
/// no service starts before what its first minutes need: its way out, its permissions, and the subscriptions and queue
/// policies that fill its queues.
/// </summary>
[Collection(CdkCollection.Name)]
public sealed class HealthTests(SynthesizedStack stack)
{
    [Fact]
    public void The_container_health_check_and_the_dashboards_target_group_ask_liveness_with_room_for_a_slow_start()
    {
        var target = Assert.Single(stack.Resources("AWS::ElasticLoadBalancingV2::TargetGroup")).Resource["Properties"]!;
        Assert.Equal("/alive", (string)target["HealthCheckPath"]!);
        Assert.Equal("/alive", Microsoft.Extensions.Hosting.Extensions.AlivenessEndpointPath);

        // Every service's task; the reconciliation task is no service: it runs to its end, and ECS has no health to judge.
        var reconciliation = stack.Topology.ServiceName(new PipelineServices(stack.Topology).Reconciliation.Name);
        foreach (var (_, definition) in stack.Resources("AWS::ECS::TaskDefinition").Where(t => (string?)t.Resource["Properties"]!["Family"] != reconciliation))
        {
            var app = definition["Properties"]!["ContainerDefinitions"]![0]!["HealthCheck"]!;
            Assert.Equal("--health-check", (string)app["Command"]![2]!); // HealthProbe: the service's own /alive
            Assert.Equal(120, (int)app["StartPeriod"]!);
        }
        var dashboard = stack.Resources("AWS::ECS::Service").Single(s => s.Resource["Properties"]!["LoadBalancers"] is not null).Resource["Properties"]!;
        Assert.Equal(120, (int)dashboard["HealthCheckGracePeriodSeconds"]!);
    }

    [Fact]
    public void Every_service_waits_for_its_route_out_its_policies_and_the_subscriptions_and_queue_policies_of_the_queues_it_consumes()
    {
        foreach (var template in stack.Configurations)
        {
            var topology = template.Topology;
            var services = new PipelineServices(topology);
            foreach (var access in services.All.Append(services.Dashboard))
            {
                var (id, service) = template.Resources("AWS::ECS::Service")
                    .Single(s => (string?)s.Resource["Properties"]!["ServiceName"] == topology.ServiceName(access.Name));
                var consumed = access.Consumes.Select(q => $"queue/{q.Name}").ToHashSet();
                var needed = new List<string>();

                // The default routes of the tasks' subnets (to the NAT gateways, or the internet gateway without them).
                var subnets = service["Properties"]!["NetworkConfiguration"]!["AwsvpcConfiguration"]!["Subnets"]!.AsArray()
                    .Select(s => TemplateReader.Render(template, s!)).ToHashSet();
                var routeTables = template.Resources("AWS::EC2::SubnetRouteTableAssociation")
                    .Where(a => subnets.Contains(TemplateReader.Render(template, a.Resource["Properties"]!["SubnetId"]!)))
                    .Select(a => TemplateReader.Render(template, a.Resource["Properties"]!["RouteTableId"]!)).ToHashSet();
                needed.AddRange(template.Resources("AWS::EC2::Route")
                    .Where(r => (string?)r.Resource["Properties"]!["DestinationCidrBlock"] == "0.0.0.0/0"
                        && routeTables.Contains(TemplateReader.Render(template, r.Resource["Properties"]!["RouteTableId"]!)))
                    .Select(r => r.Id));
                Assert.Equal(template.Settings.VpcId is null ? 2 : 0, needed.Count); // a route per zone in a new VPC; an existing one's are not ours

                var policyNames = new[] { ServiceTask.AccessPolicy, ServiceTask.TelemetryPolicy }.Select(p => topology.ServicePolicyName(access.Name, p));
                needed.AddRange(template.Resources("AWS::IAM::Policy")
                    .Where(p => policyNames.Contains((string)p.Resource["Properties"]!["PolicyName"]!)).Select(p => p.Id));
                var subscriptions = template.Resources("AWS::SNS::Subscription")
                    .Where(s => consumed.Contains(TemplateReader.Render(template, s.Resource["Properties"]!["Endpoint"]!))).Select(s => s.Id).ToList();
                Assert.Equal(topology.Subscriptions.Count(s => access.Consumes.Contains(s.Queue)), subscriptions.Count);
                needed.AddRange(subscriptions);
                var queuePolicies = template.Resources("AWS::SQS::QueuePolicy")
                    .Where(p => p.Resource["Properties"]!["Queues"]!.AsArray().Any(q => consumed.Contains(TemplateReader.Render(template, q!))))
                    .Select(p => p.Id).ToList();
                Assert.Equal(access.Consumes.Count, queuePolicies.Count);
                needed.AddRange(queuePolicies);

                Assert.All(needed, n => Assert.True(template.DependsOn(id).Contains(n), $"{template}: {access.Name}'s service does not wait for {n}"));
            }
        }
    }
}
