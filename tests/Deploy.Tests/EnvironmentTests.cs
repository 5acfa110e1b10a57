using Pipeline.Topology;

namespace Deploy.Tests;

/// <summary>Every physical name derives from the stack's name, so that two stacks (production and staging) share an account and region.</summary>
[Collection(CdkCollection.Name)]
public sealed class EnvironmentTests(SynthesizedStack stack)
{
    /// <summary>The properties that name a resource in the account and region (or within a cluster or scalable target).</summary>
    private static readonly Dictionary<string, string> NameProperties = new(StringComparer.Ordinal)
    {
        ["AWS::S3::Bucket"] = "BucketName",
        ["AWS::DynamoDB::Table"] = "TableName",
        ["AWS::SQS::Queue"] = "QueueName",
        ["AWS::SNS::Topic"] = "TopicName",
        ["AWS::Logs::LogGroup"] = "LogGroupName",
        ["AWS::ECS::TaskDefinition"] = "Family",
        ["AWS::ECS::Service"] = "ServiceName",
        ["AWS::ECS::Cluster"] = "ClusterName",
        ["AWS::IAM::Role"] = "RoleName",
        ["AWS::IAM::Policy"] = "PolicyName",
        ["AWS::IAM::ManagedPolicy"] = "ManagedPolicyName",
        ["AWS::Athena::WorkGroup"] = "Name",
        ["AWS::ApplicationAutoScaling::ScalingPolicy"] = "PolicyName",
        ["AWS::CloudWatch::Alarm"] = "AlarmName",
        ["AWS::ElasticLoadBalancingV2::LoadBalancer"] = "Name",
        ["AWS::ElasticLoadBalancingV2::TargetGroup"] = "Name",
        ["AWS::Cognito::UserPool"] = "UserPoolName",
    };

    [Fact]
    public void Two_stack_names_give_disjoint_physical_names_each_made_from_its_stack_name()
    {
        var production = Names(stack.Configuration("defaults"));
        var staging = Names(stack.With("stackName=pipeline-staging"));
        Assert.Empty(production.Select(n => n.Name).Intersect(staging.Select(n => n.Name)));
        Assert.Equal(production.Count, staging.Count);

        var existing = stack.Configuration("existing-vpc");
        Assert.Equal("pipeline-staging", existing.Settings.StackName);
        Assert.Equal(
            ["AWS::ApplicationAutoScaling::ScalingPolicy", "AWS::Athena::WorkGroup", "AWS::CloudWatch::Alarm", "AWS::Cognito::UserPool", "AWS::DynamoDB::Table",
             "AWS::ECS::Service", "AWS::ECS::TaskDefinition", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::Logs::LogGroup", "AWS::S3::Bucket",
             "AWS::SNS::Topic", "AWS::SQS::Queue"],
            Names(existing).Select(n => n.Type).Distinct().Order(StringComparer.Ordinal));
        // The default environment keeps the names it had before environments existed (its message topics are unscoped).
        foreach (var template in stack.Configurations.Append(stack.With("stackName=pipeline-staging"))
                     .Where(t => t.Settings.StackName != PipelineTopology.DefaultEnvironment))
        {
            var name = System.Text.RegularExpressions.Regex.Escape(template.Settings.StackName);
            Assert.All(Names(template), n => Assert.Matches($"^({name}([-_]|: )|/{name}/)", n.Name));
        }
    }

    [Fact]
    public void The_services_are_told_their_environment_and_bucket_and_the_default_bucket_is_the_environments_in_its_account_and_region()
    {
        foreach (var template in stack.Configurations)
        {
            var topology = template.Topology;
            var containers = template.Resources("AWS::ECS::TaskDefinition")
                .Select(t => t.Resource["Properties"]!["ContainerDefinitions"]![0]!)
                .ToList();
            var environments = containers.Where(c => c["Environment"] is not null)
                .Select(c => c["Environment"]!.AsArray().ToDictionary(e => (string)e!["Name"]!, e => TemplateReader.Render(template, e!["Value"]!)))
                .ToList();

            Assert.Equal(5, environments.Count);
            Assert.All(environments, e =>
                Assert.Equal((template.Settings.StackName, topology.Bucket.Name), (e["Pipeline__Environment"], e["Pipeline__BucketName"])));
            // The reconciliation task is the pipeline command, told them by its arguments.
            var command = containers.Single(c => c["Environment"] is null)["Command"]!.AsArray()
                .Select(a => TemplateReader.Render(template, a!)).ToList();
            Assert.Equal((template.Settings.StackName, topology.Bucket.Name),
                (command[command.IndexOf("--environment") + 1], command[command.IndexOf("--bucket") + 1]));
            Assert.Equal($"{template.Settings.StackName}-data-{{AWS::AccountId}}-{{AWS::Region}}", topology.Bucket.Name);
        }
    }

    /// <summary>Every name a template gives its resources, but the inline policies CDK names after their logical id (unique per role).</summary>
    private static List<(string Type, string Name)> Names(StackTemplate template) =>
        (from pair in NameProperties
         from resource in template.Resources(pair.Key)
         let name = resource.Resource["Properties"]?[pair.Value]
         where name is not null
         let rendered = TemplateReader.Render(template, name)
         where rendered != resource.Id
         select (pair.Key, rendered)).ToList();
}
