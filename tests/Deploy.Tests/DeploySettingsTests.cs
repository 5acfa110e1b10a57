using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;

namespace Deploy.Tests;

[Collection(CdkCollection.Name)]
public sealed class DeploySettingsTests(SynthesizedStack stack)
{
    [Fact]
    public void An_existing_vpc_is_used_by_its_ids_without_look_ups_or_a_vpc_of_our_own()
    {
        _ = stack; // the collection's temporary folder is jsii's
        var app = DeployCommand.CreateApp();
        var template = Template.FromStack(new PipelineStack(app, DeploySettings.Parse(["vpcId=vpc-0abc", "subnetIds=subnet-1,subnet-2", "stackName=existing-vpc"])));
        var json = JsonNode.Parse(JsonSerializer.Serialize(template.ToJSON()))!;

        template.ResourceCountIs("AWS::EC2::VPC", 0);
        template.ResourceCountIs("AWS::EC2::NatGateway", 0);
        var services = json["Resources"]!.AsObject().Select(r => r.Value!).Where(r => (string?)r["Type"] == "AWS::ECS::Service").ToList();
        Assert.Equal(4, services.Count);
        Assert.All(services, s => Assert.Equal(["subnet-1", "subnet-2"],
            s["Properties"]!["NetworkConfiguration"]!["AwsvpcConfiguration"]!["Subnets"]!.AsArray().Select(n => (string)n!)));
        Assert.Equal("vpc-0abc", (string)json["Resources"]!.AsObject().Single(r => (string?)r.Value!["Type"] == "AWS::EC2::SecurityGroup").Value!["Properties"]!["VpcId"]!);
    }

    [Theory]
    [InlineData("vpcId=vpc-0abc", "subnetIds")]
    [InlineData("minTasks=5", "maxTasks")]
    [InlineData("logRetentionDays=10", "logRetentionDays")]
    [InlineData("alertEmails=not-an-address", "not-an-address")]
    [InlineData("colour=blue", "colour=blue")]
    public void Settings_that_cannot_work_are_refused_with_the_reason(string argument, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => DeploySettings.Parse([argument]));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
