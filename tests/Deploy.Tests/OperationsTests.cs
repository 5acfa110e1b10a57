using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Topology;
using Pipeline.Topology.Access;

namespace Deploy.Tests;

/// <summary>The operations alarms and their topic, the gateway endpoints and the NAT gateways per zone.</summary>
[Collection(CdkCollection.Name)]
public sealed class OperationsTests(SynthesizedStack stack)
{
    private readonly PipelineTopology _topology = new();

    [Fact]
    public void Every_dead_letter_queue_alarms_on_its_first_visible_message()
    {
        var alarms = OperationsAlarms(stack.Json).Where(a => (string?)a["MetricName"] == "ApproximateNumberOfMessagesVisible").ToList();

        Assert.Equal(_topology.Queues.Select(q => $"queue/{q.DeadLetterQueueName}").Order(), alarms.Select(QueueOf).Order());
        Assert.All(alarms, a => Assert.Equal(("AWS/SQS", "Maximum", 60, "GreaterThanOrEqualToThreshold", 1.0, 1, "notBreaching"), Condition(a)));
    }

    [Fact]
    public void Every_queue_a_service_consumes_alarms_when_its_oldest_message_outlives_the_redrive_budget_and_a_task_start()
    {
        var alarms = OperationsAlarms(stack.Json).Where(a => (string?)a["MetricName"] == "ApproximateAgeOfOldestMessage")
            .ToDictionary(QueueOf, a => a);
        var services = new PipelineServices(_topology);

        // Not the alerts inbox: nothing consumes it in AWS, so its messages grow old by design.
        var consumed = services.All.Concat([services.Dashboard]).SelectMany(s => s.Consumes).Select(q => $"queue/{q.Name}").Distinct();
        Assert.Equal(consumed.Order(), alarms.Keys.Order());
        Assert.DoesNotContain($"queue/{_topology.AlertsInboxQueue.Name}", alarms.Keys);
        // 10 receives (5 handled, 5 spare) x 5 minutes + 5 minutes to start a task; 10 x 30 s + 5 minutes.
        Assert.Equal(55 * 60, (double)alarms[$"queue/{_topology.ValidateQueue.Name}"]["Threshold"]!);
        Assert.Equal(10 * 60, (double)alarms[$"queue/{_topology.NotifierQueue.Name}"]["Threshold"]!);
        foreach (var queue in _topology.Queues.Where(q => alarms.ContainsKey($"queue/{q.Name}")))
        {
            var alarm = alarms[$"queue/{queue.Name}"];
            var limit = Operations.OldestMessageAgeLimit(queue).TotalSeconds;
            Assert.Equal(("AWS/SQS", "Maximum", 60, "GreaterThanThreshold", limit, 2, "notBreaching"), Condition(alarm));
        }
    }

    [Fact]
    public void A_worker_that_keeps_a_task_alarms_when_none_has_run_for_five_minutes_from_the_free_ecs_metrics()
    {
        // The shared stack has minTasks=0: only the Notifier (its failure watcher) must always run.
        var alarm = Assert.Single(OperationsAlarms(stack.Json), a => (string?)a["Namespace"] == "AWS/ECS");
        Assert.Equal("CPUUtilization", (string)alarm["MetricName"]!);
        Assert.Equal(("AWS/ECS", "SampleCount", 60, "LessThanThreshold", 1.0, Operations.NoTaskMinutes, "breaching"), Condition(alarm));
        var dimensions = alarm["Dimensions"]!.AsArray().ToDictionary(d => (string)d!["Name"]!, d => d!["Value"]!);
        Assert.Equal("service/pipeline-notifier", TemplateReader.Render(stack, dimensions["ServiceName"]));
        Assert.Equal(stack.Resources("AWS::ECS::Cluster").Single().Id, TemplateReader.Render(stack, dimensions["ClusterName"]));
        // The metric needs no Container Insights, which the stack leaves off (cost; docs/deploy.md).
        Assert.Null(stack.Resources("AWS::ECS::Cluster").Single().Resource["Properties"]?["ClusterSettings"]);

        // With the default minTasks=1 every worker keeps a task, and each has the alarm.
        var defaults = stack.With("natGateways=2");
        Assert.Equal(new PipelineServices(_topology).All.Select(s => $"pipeline-{s.Name}").Order(), OperationsAlarms(defaults.Json)
            .Where(a => (string?)a["Namespace"] == "AWS/ECS").Select(a => ServiceNameOf(defaults, a)).Order());
    }

    [Fact]
    public void The_dashboard_alarms_when_a_target_is_unhealthy_or_none_is_healthy()
    {
        var alarms = OperationsAlarms(stack.Json).Where(a => (string?)a["Namespace"] == "AWS/ApplicationELB").ToDictionary(a => (string)a["MetricName"]!);
        var targetGroup = stack.Resources("AWS::ElasticLoadBalancingV2::TargetGroup").Single().Id;
        // CloudWatch names the load balancer app/<name>/<id>: CDK cuts it out of the listener's ARN.
        var listener = stack.Resources("AWS::ElasticLoadBalancingV2::Listener").Single().Id;

        Assert.Equal(["HealthyHostCount", "UnHealthyHostCount"], alarms.Keys.Order());
        Assert.Equal(("AWS/ApplicationELB", "Maximum", 60, "GreaterThanOrEqualToThreshold", 1.0, Operations.UnhealthyTargetMinutes, "notBreaching"),
            Condition(alarms["UnHealthyHostCount"]));
        // No data at all (no task registered) is no healthy target too.
        Assert.Equal(("AWS/ApplicationELB", "Minimum", 60, "LessThanThreshold", 1.0, Operations.UnhealthyTargetMinutes, "breaching"),
            Condition(alarms["HealthyHostCount"]));
        Assert.All(alarms.Values, a =>
        {
            var dimensions = a["Dimensions"]!.AsArray().ToDictionary(d => (string)d!["Name"]!, d => d!["Value"]!.ToJsonString());
            Assert.Equal(["LoadBalancer", "TargetGroup"], dimensions.Keys.Order());
            Assert.Contains($"[\"{targetGroup}\",\"TargetGroupFullName\"]", dimensions["TargetGroup"], StringComparison.Ordinal);
            Assert.Contains($"{{\"Ref\":\"{listener}\"}}", dimensions["LoadBalancer"], StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Every_operations_alarm_tells_the_operations_topic_when_it_fires_and_when_it_clears_and_is_named_after_the_stack()
    {
        var topic = OperationsTopicId(stack.Json);
        var alarms = OperationsAlarms(stack.Json).ToList();

        // 6 dead-letter queues, 5 consumed queues, the Notifier's tasks, the dashboard's targets twice.
        Assert.Equal(_topology.Queues.Count + 5 + 1 + 2, alarms.Count);
        Assert.All(alarms, a =>
        {
            Assert.Equal([topic], a["AlarmActions"]!.AsArray().Select(r => (string)r!["Ref"]!));
            Assert.Equal([topic], a["OKActions"]!.AsArray().Select(r => (string)r!["Ref"]!));
            Assert.StartsWith($"{stack.Settings.StackName}: ", (string)a["AlarmName"]!, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace((string?)a["AlarmDescription"]));
        });
        Assert.Equal(alarms.Count, alarms.Select(a => (string)a["AlarmName"]!).Distinct().Count());
    }

    [Fact]
    public void The_operations_topic_refuses_publishing_without_tls_lets_only_this_accounts_alarms_publish_and_mails_the_alert_addresses()
    {
        var topic = OperationsTopicId(stack.Json);
        Assert.Equal(stack.Topology.OperationsTopicName, (string)stack.Resource(topic)["Properties"]!["TopicName"]!);
        Assert.Equal($"pipeline-operations", stack.Topology.OperationsTopicName);

        var policy = Assert.Single(stack.Resources("AWS::SNS::TopicPolicy"), p => p.Resource["Properties"]!["Topics"]!.AsArray()
            .Any(t => (string?)t!["Ref"] == topic)).Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray().Select(s => s!).ToList();
        Assert.Equal(2, policy.Count);
        var deny = policy.Single(s => (string?)s["Effect"] == "Deny");
        Assert.Equal(("sns:Publish", "*", topic, "false"),
            ((string)deny["Action"]!, (string)deny["Principal"]!["AWS"]!, (string)deny["Resource"]!["Ref"]!,
             (string)deny["Condition"]!["Bool"]!["aws:SecureTransport"]!));
        var allow = policy.Single(s => (string?)s["Effect"] == "Allow");
        Assert.Equal(("sns:Publish", "cloudwatch.amazonaws.com", topic, "AWS::AccountId"),
            ((string)allow["Action"]!, (string)allow["Principal"]!["Service"]!, (string)allow["Resource"]!["Ref"]!,
             (string)allow["Condition"]!["StringEquals"]!["aws:SourceAccount"]!["Ref"]!));
        Assert.Equal("arn:{AWS::Partition}:cloudwatch:{AWS::Region}:{AWS::AccountId}:alarm:*",
            TemplateReader.Render(stack, allow["Condition"]!["ArnLike"]!["aws:SourceArn"]!));

        var emails = stack.Resources("AWS::SNS::Subscription").Select(s => s.Resource["Properties"]!)
            .Where(p => (string?)p["TopicArn"]!["Ref"] == topic).Select(p => ((string)p["Protocol"]!, (string)p["Endpoint"]!));
        Assert.Equal(stack.Settings.AlertEmails.Select(e => ("email", e)).Order(), emails.Order());
        Assert.Equal(topic, (string)stack.Json["Outputs"]!["OperationsTopicArn"]!["Value"]!["Ref"]!);
        // Alarms only: no role of the stack may publish there.
        Assert.DoesNotContain(TemplateReader.AllGrants(stack), g => g.Resource == $"topic/{stack.Topology.OperationsTopicName}");
    }

    [Theory]
    [InlineData("natGateways=1", 1)]
    [InlineData("natGateways=2", 2)]
    [InlineData("natGateways=0", 0)]
    public void S3_and_dynamodb_go_through_gateway_endpoints_of_the_tasks_subnets_and_each_zone_has_its_own_nat_gateway_when_asked(
        string setting, int natGateways)
    {
        var template = stack.With(setting);
        Assert.Empty(template.Messages);

        var taskSubnets = template.Resources("AWS::ECS::Service")
            .SelectMany(s => s.Resource["Properties"]!["NetworkConfiguration"]!["AwsvpcConfiguration"]!["Subnets"]!.AsArray()).Select(s => (string)s!["Ref"]!)
            .Distinct().Order().ToList();
        Assert.Equal(DeploySettings.Zones, taskSubnets.Count);
        var routeTables = taskSubnets.Select(subnet => (string)template.Resources("AWS::EC2::SubnetRouteTableAssociation")
            .Single(a => (string?)a.Resource["Properties"]!["SubnetId"]!["Ref"] == subnet).Resource["Properties"]!["RouteTableId"]!["Ref"]!).ToList();
        var endpoints = template.Resources("AWS::EC2::VPCEndpoint").Select(e => e.Resource["Properties"]!).ToList();
        // com.amazonaws.<region>.s3 and .dynamodb
        Assert.Equal(["\".dynamodb\"", "\".s3\""], endpoints.Select(e => e["ServiceName"]!["Fn::Join"]![1]![2]!.ToJsonString()).Order());
        Assert.All(endpoints, e =>
        {
            Assert.Equal("Gateway", (string)e["VpcEndpointType"]!);
            Assert.Equal(routeTables.Order(), e["RouteTableIds"]!.AsArray().Select(r => (string)r!["Ref"]!).Order());
        });

        var nats = template.Resources("AWS::EC2::NatGateway").ToList();
        Assert.Equal(natGateways, nats.Count);
        // Each task subnet's way out: a NAT gateway (in its own zone when there is one per zone), or the internet gateway itself.
        foreach (var (subnet, routeTable) in taskSubnets.Zip(routeTables))
        {
            var route = template.Resources("AWS::EC2::Route")
                .Single(r => (string?)r.Resource["Properties"]!["RouteTableId"]!["Ref"] == routeTable).Resource["Properties"]!;
            if (natGateways == 0)
            {
                Assert.NotNull(route["GatewayId"]);
                continue;
            }
            var nat = (string)route["NatGatewayId"]!["Ref"]!;
            if (natGateways == DeploySettings.Zones)
            {
                var natSubnet = (string)template.Resource(nat)["Properties"]!["SubnetId"]!["Ref"]!;
                Assert.Equal(template.Resource(subnet)["Properties"]!["AvailabilityZone"]!.ToJsonString(),
                    template.Resource(natSubnet)["Properties"]!["AvailabilityZone"]!.ToJsonString());
            }
        }
        Assert.Equal(natGateways, template.Resources("AWS::EC2::Route").Select(r => r.Resource["Properties"]!["NatGatewayId"]?["Ref"]).OfType<JsonNode>()
            .Select(n => (string)n!).Distinct().Count());
    }

    [Theory]
    [InlineData("natGateways=3", "one per zone")]
    [InlineData("natGateways=-1", "whole number")]
    public void Nat_gateways_beyond_one_per_zone_are_refused(string argument, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => DeploySettings.Parse([argument]));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<JsonObject> OperationsAlarms(JsonObject template) =>
        template["Resources"]!.AsObject().Select(r => r.Value!.AsObject())
            .Where(r => (string?)r["Type"] == "AWS::CloudWatch::Alarm" && r["Properties"]!["AlarmName"] is not null)
            .Select(r => r["Properties"]!.AsObject());

    private static string OperationsTopicId(JsonObject template) =>
        template["Resources"]!.AsObject().Single(r => (string?)r.Value!["Type"] == "AWS::SNS::Topic"
            && ((string?)r.Value["Properties"]!["TopicName"])?.EndsWith("-operations", StringComparison.Ordinal) == true).Key;

    private string QueueOf(JsonObject alarm) => TemplateReader.Render(stack, Assert.Single(alarm["Dimensions"]!.AsArray())!["Value"]!);

    /// <summary>What an alarm watches and when it fires (every period of the evaluation must breach).</summary>
    private static (string, string, int, string, double, int, string) Condition(JsonObject alarm)
    {
        Assert.Equal((int)alarm["EvaluationPeriods"]!, (int)alarm["DatapointsToAlarm"]!);
        return ((string)alarm["Namespace"]!, (string)alarm["Statistic"]!, (int)alarm["Period"]!, (string)alarm["ComparisonOperator"]!,
            (double)alarm["Threshold"]!, (int)alarm["EvaluationPeriods"]!, (string)alarm["TreatMissingData"]!);
    }

    /// <summary>The name of the ECS service an alarm's ServiceName dimension points at.</summary>
    private static string ServiceNameOf(StackTemplate template, JsonObject alarm) =>
        (string)template.Resource((string)alarm["Dimensions"]!.AsArray().Single(d => (string?)d!["Name"] == "ServiceName")!["Value"]!["Fn::GetAtt"]![0]!)
            ["Properties"]!["ServiceName"]!;
}
