using Amazon.CDK.Assertions;

namespace Deploy.Tests;

[Collection(CdkCollection.Name)]
public sealed class DeploySettingsTests(SynthesizedStack stack)
{
    [Fact]
    public void An_existing_vpc_is_used_by_its_ids_without_look_ups_or_a_vpc_of_our_own_and_the_dashboard_admits_the_network_named_over_https()
    {
        var existing = stack.Configuration("existing-vpc");
        var template = existing.Template;

        template.ResourceCountIs("AWS::EC2::VPC", 0);
        template.ResourceCountIs("AWS::EC2::NatGateway", 0);
        var services = existing.Resources("AWS::ECS::Service").ToList();
        Assert.Equal(5, services.Count); // four workers and the dashboard
        Assert.All(services, s => Assert.Equal(existing.Settings.SubnetIds,
            s.Resource["Properties"]!["NetworkConfiguration"]!["AwsvpcConfiguration"]!["Subnets"]!.AsArray().Select(n => (string)n!)));
        Assert.All(existing.Resources("AWS::EC2::SecurityGroup"), g => Assert.Equal(existing.Settings.VpcId, (string)g.Resource["Properties"]!["VpcId"]!));

        // HTTPS only, with the certificate given, and only from the network named.
        template.HasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", new Dictionary<string, object>
        {
            ["Port"] = 443,
            ["Protocol"] = "HTTPS",
            ["Certificates"] = new object[] { new Dictionary<string, object> { ["CertificateArn"] = existing.Settings.DashboardCertificateArn! } },
        });
        template.ResourcePropertiesCountIs("AWS::ElasticLoadBalancingV2::Listener", new Dictionary<string, object> { ["Protocol"] = "HTTP" }, 0);
        template.HasResourceProperties("AWS::EC2::SecurityGroup", new Dictionary<string, object>
        {
            ["SecurityGroupIngress"] = new object[]
            {
                Match.ObjectLike(new Dictionary<string, object> { ["CidrIp"] = "10.20.0.0/16", ["FromPort"] = 443, ["ToPort"] = 443 }),
            },
        });
    }

    [Fact]
    public void The_notifier_alone_is_given_the_freshness_and_anomaly_settings_and_one_setting_turns_each_check_off()
    {
        Dictionary<string, string> Environment(string container) => stack.Resources("AWS::ECS::TaskDefinition")
            .SelectMany(t => t.Resource["Properties"]!["ContainerDefinitions"]!.AsArray())
            .Single(c => (string)c!["Name"]! == container)!["Environment"]!.AsArray()
            .Where(e => ((string)e!["Name"]!).StartsWith("Freshness__", StringComparison.Ordinal)
                || ((string)e!["Name"]!).StartsWith("Anomalies__", StringComparison.Ordinal))
            .ToDictionary(e => (string)e!["Name"]!, e => (string)e!["Value"]!);

        Assert.Equal(new Dictionary<string, string>
        {
            ["Freshness__Enabled"] = "true",
            ["Freshness__Deadline"] = "07:30",
            ["Freshness__LookbackDays"] = "45",
            ["Anomalies__Enabled"] = "true",
            ["Anomalies__Weeks"] = "8",
            ["Anomalies__MinimumHistory"] = "3",
            ["Anomalies__Threshold"] = "4.5",
            ["Anomalies__SpreadFloor"] = "0.1",
        }, Environment("notifier"));
        Assert.All(new[] { "validate", "transform", "compute", "dashboard" }, service => Assert.Empty(Environment(service)));
        Assert.Equal(("06:00", 30), (new DeploySettings().FreshnessDeadline, new DeploySettings().FreshnessLookbackDays));
        Assert.Equal(new Dictionary<string, string> { ["Freshness__Enabled"] = "false", ["Anomalies__Enabled"] = "false" },
            DeploySettings.Parse(["freshnessDeadline=off", "anomalies=off"]).NotifierEnvironment());
    }

    [Theory]
    [InlineData("freshnessDeadline=6am", "freshnessDeadline: '6am' is not a deadline")]
    [InlineData("freshnessDeadline=24:00", "HH:mm")]
    [InlineData("freshnessLookbackDays=0", "at least 1")]
    [InlineData("anomalies=no", "anomalies: 'no' is neither on nor off")]
    [InlineData("anomalyThreshold=high", "anomalyThreshold: 'high' is not a number")]
    [InlineData("anomalyMinimumHistory=9", "Anomalies:MinimumHistory must be from 1 to Anomalies:Weeks (8), not 9.")]
    [InlineData("anomalyThreshold=0", "Anomalies:Threshold must be a positive number, not 0.")]
    [InlineData("vpcId=vpc-0a1b2c3d", "subnetIds")]
    [InlineData("vpcId=vpc-0abc", "not a vpc id")]
    [InlineData("vpcId=vpc-0a1b2c3d subnetIds=subnet-1", "not a subnet id")]
    [InlineData("minTasks=5", "maxTasks")]
    [InlineData("logRetentionDays=10", "logRetentionDays")]
    [InlineData("alertEmails=not-an-address", "not-an-address")]
    [InlineData("colour=blue", "colour=blue")]
    [InlineData("vpcId=vpc-0a1b2c3d subnetIds=subnet-0a1b2c3d", "dashboardAllowedCidr")]
    [InlineData("dashboardAllowedCidr=0.0.0.0/0", "anyone")]
    [InlineData("dashboardAllowedCidr=10.0.0.0/33", "not an IPv4 CIDR block")]
    [InlineData("dashboardAllowedCidr=office", "not an IPv4 CIDR block")]
    [InlineData("dashboardCertificateArn=my-cert", "not an ARN")]
    [InlineData("stackName=Pipeline-Prod", "stackName names every resource of the stack: 'Pipeline-Prod' cannot name an environment: use lower-case")]
    [InlineData("stackName=pipeline-production-eu-west-1-blue", "name the bucket, or use at most 30 characters")]
    [InlineData("stackName=pipeline-production-eu-west-1-blue-green-and-then-some-more bucketName=b", "at most 58 characters")]
    public void Settings_that_cannot_work_are_refused_with_the_reason(string argument, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => DeploySettings.Parse(argument.Split(' ')));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
