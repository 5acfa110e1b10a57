using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;

namespace Deploy.Tests;

[Collection(CdkCollection.Name)]
public sealed class DeploySettingsTests(SynthesizedStack stack)
{
    [Fact]
    public void An_existing_vpc_is_used_by_its_ids_without_look_ups_or_a_vpc_of_our_own_and_the_dashboard_admits_the_network_named_over_https()
    {
        _ = stack; // the collection's temporary folder is jsii's
        var app = DeployCommand.CreateApp();
        var template = Template.FromStack(new PipelineStack(app, DeploySettings.Parse(["vpcId=vpc-0abc", "subnetIds=subnet-1,subnet-2", "stackName=existing-vpc",
            "dashboardAllowedCidr=10.20.0.0/16", $"dashboardCertificateArn={Certificate}", "dashboardDomainName=kpis.example.com"])));
        var json = JsonNode.Parse(JsonSerializer.Serialize(template.ToJSON()))!;

        template.ResourceCountIs("AWS::EC2::VPC", 0);
        template.ResourceCountIs("AWS::EC2::NatGateway", 0);
        var services = json["Resources"]!.AsObject().Select(r => r.Value!).Where(r => (string?)r["Type"] == "AWS::ECS::Service").ToList();
        Assert.Equal(5, services.Count); // four workers and the dashboard
        Assert.All(services, s => Assert.Equal(["subnet-1", "subnet-2"],
            s["Properties"]!["NetworkConfiguration"]!["AwsvpcConfiguration"]!["Subnets"]!.AsArray().Select(n => (string)n!)));
        Assert.All(json["Resources"]!.AsObject().Where(r => (string?)r.Value!["Type"] == "AWS::EC2::SecurityGroup"),
            g => Assert.Equal("vpc-0abc", (string)g.Value!["Properties"]!["VpcId"]!));

        // HTTPS only, with the certificate given, and only from the network named.
        template.HasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", new Dictionary<string, object>
        {
            ["Port"] = 443,
            ["Protocol"] = "HTTPS",
            ["Certificates"] = new object[] { new Dictionary<string, object> { ["CertificateArn"] = Certificate } },
        });
        template.ResourcePropertiesCountIs("AWS::ElasticLoadBalancingV2::Listener", new Dictionary<string, object> { ["Protocol"] = "HTTP" }, 0);
        template.HasResourceProperties("AWS::EC2::SecurityGroup", new Dictionary<string, object>
        {
            ["SecurityGroupIngress"] = new object[] { Match.ObjectLike(new Dictionary<string, object> { ["CidrIp"] = "10.20.0.0/16", ["FromPort"] = 443, ["ToPort"] = 443 }) },
        });
    }

    private const string Certificate = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

    [Theory]
    [InlineData("vpcId=vpc-0abc", "subnetIds")]
    [InlineData("minTasks=5", "maxTasks")]
    [InlineData("logRetentionDays=10", "logRetentionDays")]
    [InlineData("alertEmails=not-an-address", "not-an-address")]
    [InlineData("colour=blue", "colour=blue")]
    [InlineData("vpcId=vpc-0abc subnetIds=subnet-1", "dashboardAllowedCidr")]
    [InlineData("dashboardAllowedCidr=0.0.0.0/0", "anyone")]
    [InlineData("dashboardAllowedCidr=10.0.0.0/33", "not an IPv4 CIDR block")]
    [InlineData("dashboardAllowedCidr=office", "not an IPv4 CIDR block")]
    [InlineData("dashboardCertificateArn=my-cert", "not an ARN")]
    public void Settings_that_cannot_work_are_refused_with_the_reason(string argument, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => DeploySettings.Parse(argument.Split(' ')));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
