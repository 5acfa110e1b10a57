using System.CommandLine;
using Pipeline.Cli.Commands;

namespace Pipeline.Cli.Tests;

/// <summary>Where the AWS commands connect to, from their shared options.</summary>
public sealed class AwsConnectionOptionsTests
{
    [Theory]
    [InlineData("", "http://127.0.0.1:4566/", "http://127.0.0.1:8000/")]
    [InlineData("--endpoint http://localstack:4566", "http://localstack:4566/", "http://localstack:4566/")]
    [InlineData("--dynamodb-endpoint http://127.0.0.1:9000", "http://127.0.0.1:4566/", "http://127.0.0.1:9000/")]
    [InlineData("--endpoint http://a:1 --dynamodb-endpoint http://b:2", "http://a:1/", "http://b:2/")]
    public void The_local_emulators_are_the_default_and_endpoints_override_them(string args, string aws, string dynamoDb)
    {
        using var connection = Connect(args);

        Assert.Equal((aws, aws, aws, dynamoDb), (connection.Options.EndpointFor("S3")?.ToString(), connection.Options.EndpointFor("SQS")?.ToString(),
            connection.Options.EndpointFor("SNS")?.ToString(), connection.Options.EndpointFor("DynamoDB")?.ToString()));
    }

    [Fact]
    public void Region_and_bucket_come_from_their_options()
    {
        using var connection = Connect("--region eu-west-1 --bucket my-bucket");

        Assert.Equal(("eu-west-1", "my-bucket"), (connection.Options.ResolvedRegion, connection.Topology.Bucket.Name));
    }

    [Fact]
    public void The_environment_option_names_every_resource_and_the_topics_scope()
    {
        using var local = Connect("");
        using var staging = Connect("--environment pipeline-staging");

        Assert.Equal(("pipeline-validate", (string?)null), (local.Topology.ValidateQueue.Name, local.Topology.TopicScope));
        Assert.Equal(("pipeline-staging-validate", "pipeline-staging"), (staging.Topology.ValidateQueue.Name, staging.Topology.TopicScope));
        Assert.Contains("lower-case", string.Join('\n', Parse("--environment Staging").Errors.Select(e => e.Message)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_deployed_environments_account_is_read_from_its_queue_url()
    {
        Assert.Equal("123456789012", AwsConnectionOptions.AccountOf("https://sqs.eu-west-1.amazonaws.com/123456789012/pipeline-staging-validate"));
        Assert.Throws<ArgumentException>(() => AwsConnectionOptions.AccountOf("http://127.0.0.1:4566/queue/pipeline-validate"));
    }

    [Fact]
    public void An_unknown_profile_is_an_error()
    {
        var name = $"no-such-profile-{Guid.NewGuid():N}";
        Assert.Equal($"no AWS profile named '{name}'", Assert.Throws<ArgumentException>(() => Connect($"--profile {name}")).Message);
    }

    private static AwsConnection Connect(string args)
    {
        var options = new AwsConnectionOptions();
        var command = new RootCommand();
        options.AddTo(command);
        return options.Connect(command.Parse(args));
    }

    private static ParseResult Parse(string args)
    {
        var command = new RootCommand();
        new AwsConnectionOptions().AddTo(command);
        return command.Parse(args);
    }
}
