using System.Reflection;
using EventBus.AwsSqs;
using EventBus.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Contracts;
using Pipeline.Topology;
using Pipeline.Topology.Provisioning;

namespace EventBus.Tests;

/// <summary>The bus's names and topology agree with the pipeline's single resource description.</summary>
public class TopologyTests(AwsAndDynamoDbEmulatorFixture aws) : IClassFixture<AwsAndDynamoDbEmulatorFixture>
{
    private static readonly Type[] Contracts = typeof(BatchSubmitted).Assembly.GetExportedTypes()
        .Where(t => t.Namespace == "Pipeline.Contracts" && t.IsClass && !t.IsAbstract).ToArray();

    [Fact]
    public void Every_contract_has_its_topic_declared_in_the_pipeline_topology_by_the_MassTransit_convention()
    {
        var topology = new PipelineTopology();
        var declared = topology.Topics.Select(t => t.Name).ToHashSet();

        Assert.Equal(10, Contracts.Length);
        Assert.All(Contracts, contract =>
        {
            Assert.Equal("Pipeline_Contracts-" + contract.Name, MessageNaming.EntityNameOf(contract));
            Assert.Equal("urn:message:Pipeline.Contracts:" + contract.Name, MessageNaming.UrnOf(contract));
            Assert.Contains(MessageNaming.EntityNameOf(contract), declared);
        });
        // ...and every declared topic but the alerts (read by people, not handlers) belongs to a contract.
        Assert.Equal(declared.Except([topology.AlertsTopic.Name]).Order(), Contracts.Select(MessageNaming.EntityNameOf).Order());
    }

    [Fact]
    public void The_service_defaults_export_the_bus_spans_and_metrics() =>
        Assert.Equal(EventBusTelemetry.Name, Microsoft.Extensions.Hosting.PipelineTelemetry.EventBusName);

    [Fact]
    public void Names_beyond_the_aws_limits_are_refused_with_a_clear_error()
    {
        Assert.Equal(new string('q', 74), SqsNames.CheckQueueName(new string('q', 74)));
        var tooLong = Assert.Throws<ArgumentException>(() => SqsNames.CheckQueueName(new string('q', 75)));
        Assert.Contains("at most 74", tooLong.Message);
        Assert.Throws<ArgumentException>(() => SqsNames.CheckQueueName("pipeline.validate"));
        Assert.Throws<ArgumentException>(() => SqsNames.CheckTopicName(MessageNaming.EntityNameOf<WithALongEntityName>()));
        Assert.Equal("orders-v2", MessageNaming.EntityNameOf<Renamed>());
    }

    [EntityName("orders-v2")]
    private sealed record Renamed;

    [EntityName(
        "this-name-is-far-too-long-for-sns-this-name-is-far-too-long-for-sns-this-name-is-far-too-long-for-sns-this-name-is-far-too-long-for-sns-" +
        "this-name-is-far-too-long-for-sns-this-name-is-far-too-long-for-sns-this-name-is-far-too-long-for-sns-this-name-is-far-too-long-for-sns")]
    private sealed record WithALongEntityName;

    public sealed class Inbox<TMessage>(Received<TMessage> received) : IIntegrationEventHandler<TMessage> where TMessage : class
    {
        public Task HandleAsync(TMessage message, MessageContext context, CancellationToken cancellationToken)
        {
            received.Add(message, context);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public void An_environment_prefixes_every_name_and_scopes_the_message_topics_as_the_bus_names_them()
    {
        var local = new PipelineTopology();
        var staging = new PipelineTopology(environment: "pipeline-staging");

        Assert.Equal((PipelineTopology.DefaultEnvironment, (string?)null), (local.Environment, local.TopicScope));
        Assert.Equal(("pipeline-staging-validate", "pipeline-staging-runs", "pipeline-staging-alerts"),
            (staging.ValidateQueue.Name, staging.PipelineRunsTable.Name, staging.AlertsTopic.Name));
        Assert.Equal(
            staging.Topics.Except([staging.AlertsTopic]).Select(t => t.Name).Order(),
            Contracts.Select(c => MessageNaming.ScopedEntityName(MessageNaming.EntityNameOf(c), staging.TopicScope)).Order());
        Assert.All(staging.Topics.Select(t => t.Name).Concat(staging.Queues.Select(q => q.DeadLetterQueueName)).Concat(staging.Tables.Select(t => t.Name)),
            name => Assert.StartsWith("pipeline-staging", name, StringComparison.Ordinal));
        Assert.Empty(staging.Topics.Select(t => t.Name).Concat(staging.Queues.Select(q => q.Name)).Concat(staging.Tables.Select(t => t.Name))
            .Intersect(local.Topics.Select(t => t.Name).Concat(local.Queues.Select(q => q.Name)).Concat(local.Tables.Select(t => t.Name))));
    }

    [Theory]
    [InlineData("Pipeline-Staging", "lower-case")]
    [InlineData("staging_1", "lower-case")]
    [InlineData("staging-", "not ending with '-'")]
    [InlineData("a-name-so-long-that-its-manifest-events-dead-letter-queue-passes-sqs-limits", "at most 58 characters")]
    public void An_environment_name_that_would_make_a_name_aws_refuses_is_refused_with_the_reason(string environment, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => new PipelineTopology(environment: environment));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Services_of_an_environment_of_their_own_use_its_names_end_to_end_and_stay_apart_from_the_default_one()
    {
        // As a service in ECS finds it: the environment from its configuration (the task definition sets Pipeline__Environment).
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration[TopologyExtensions.EnvironmentKey] = "pipeline-staging";
        var staging = builder.AddPipelineTopology();
        var local = new PipelineTopology();
        await ProvisionAsync(staging);
        await ProvisionAsync(local);

        var toStaging = new Received<BatchSubmitted>();
        var toLocal = new Received<BatchSubmitted>();
        await using var stagingValidate = await StartValidateAsync(staging, toStaging);
        await using var localValidate = await StartValidateAsync(local, toLocal);

        // A publisher of the environment (pipeline submit --environment pipeline-staging) reaches its Validate only.
        using var sqs = aws.CreateSqsClient();
        var publisher = SqsPublisher.Create(sqs, aws.CreateSnsClient(), "pipeline-cli", TopologyMode.Verify, staging.TopicScope);
        var batch = new BatchSubmitted("20250409", staging.Bucket.Name, "data/20250409/manifest_20250409.json", "\"9b2cf535\"", DateTimeOffset.UtcNow, "test");
        await publisher.PublishAsync(batch);

        var (message, context) = Assert.Single(await toStaging.WaitForAsync(1));
        Assert.Equal(batch, message);
        Assert.Equal("pipeline-staging-validate", context.Endpoint);
        await Task.Delay(TimeSpan.FromSeconds(2)); // a long poll of the local endpoint
        Assert.Empty(toLocal.Items);

        Task<RunningBus> StartValidateAsync(PipelineTopology topology, Received<BatchSubmitted> received) =>
            BusHost.StartAsync(aws, topology.ValidateQueue.Name, bus => bus.AddSubscription<BatchSubmitted, Inbox<BatchSubmitted>>(),
                options => (options.Topology, options.TopicScope) = (TopologyMode.Verify, topology.TopicScope),
                services: s => s.AddSingleton(received));
    }

    /// <summary>Applies the pipeline's topology to the emulators as the AppHost and the provisioner tool do.</summary>
    private async Task<PipelineTopology> ProvisionAsync(PipelineTopology? environment = null)
    {
        var topology = environment ?? new PipelineTopology();
        using var sqs = aws.CreateSqsClient();
        using var s3 = aws.CreateS3Client();
        using var dynamoDb = aws.CreateDynamoDbClient();
        await new TopologyProvisioner(s3, sqs, dynamoDb, aws.CreateSnsClient(), NullLogger<TopologyProvisioner>.Instance)
            .ApplyAsync(topology, CancellationToken.None);
        return topology;
    }

    [Fact]
    public async Task Services_verify_the_topology_the_provisioner_applied_and_exchange_messages_over_it()
    {
        var topology = await ProvisionAsync();

        // Each service subscribes, on its queue, to exactly the topics the topology wires to that queue.
        var endpoints = new (string Endpoint, Type[] Handles, Action<SqsEventBusBuilder> Subscribe)[]
        {
            ("validate", [typeof(BatchSubmitted)], bus => bus.AddSubscription<BatchSubmitted, Inbox<BatchSubmitted>>()),
            ("transform", [typeof(BatchValidated)], bus => bus.AddSubscription<BatchValidated, Inbox<BatchValidated>>()),
            ("compute", [typeof(BatchTransformed), typeof(BatchRetractionRequested), typeof(BatchUploadRepeated)],
                bus => bus.AddSubscription<BatchTransformed, Inbox<BatchTransformed>>()
                    .AddSubscription<BatchRetractionRequested, Inbox<BatchRetractionRequested>>()
                    .AddSubscription<BatchUploadRepeated, Inbox<BatchUploadRepeated>>()),
            ("notifier", [typeof(KpisUpdated), typeof(BatchRejected), typeof(BatchRetracted), typeof(BatchRetractionRefused), typeof(ReconciliationFinished)],
                bus => bus.AddSubscription<KpisUpdated, Inbox<KpisUpdated>>().AddSubscription<BatchRejected, Inbox<BatchRejected>>()
                    .AddSubscription<BatchRetracted, Inbox<BatchRetracted>>().AddSubscription<BatchRetractionRefused, Inbox<BatchRetractionRefused>>()
                    .AddSubscription<ReconciliationFinished, Inbox<ReconciliationFinished>>()),
        };
        var submitted = new Received<BatchSubmitted>();
        var hosts = new List<RunningBus>();
        try
        {
            foreach (var (endpoint, handles, subscribe) in endpoints)
            {
                var queue = topology.EndpointQueue(endpoint);
                Assert.Equal(
                    topology.Subscriptions.Where(s => s.Queue == queue).Select(s => s.Topic.Name).Order(),
                    handles.Select(MessageNaming.EntityNameOf).Order());
                hosts.Add(await BusHost.StartAsync(aws, queue.Name, subscribe,
                    options => options.Topology = TopologyMode.Verify,
                    services: s => s.AddSingleton(submitted).AddSingleton(new Received<BatchValidated>()).AddSingleton(new Received<BatchTransformed>())
                        .AddSingleton(new Received<KpisUpdated>()).AddSingleton(new Received<BatchRejected>())
                        .AddSingleton(new Received<BatchRetractionRequested>()).AddSingleton(new Received<BatchRetracted>())
                        .AddSingleton(new Received<BatchRetractionRefused>()).AddSingleton(new Received<BatchUploadRepeated>())
                        .AddSingleton(new Received<ReconciliationFinished>())));
            }

            var batch = new BatchSubmitted(
                "20250409", topology.Bucket.Name, "data/20250409/manifest_20250409.json", "\"9b2cf535\"", DateTimeOffset.UtcNow, "test");
            await hosts[^1].Bus.PublishAsync(batch);

            var (message, context) = Assert.Single(await submitted.WaitForAsync(1));
            Assert.Equal(batch, message);
            Assert.Equal("pipeline-validate", context.Endpoint);
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Ensuring_an_endpoint_on_a_provisioned_queue_keeps_the_provisioners_policy_statements()
    {
        var topology = await ProvisionAsync();
        using var sqs = aws.CreateSqsClient();

        await using (await BusHost.StartAsync(aws, topology.ComputeQueue.Name,
            bus => bus.AddSubscription<BatchTransformed, Inbox<BatchTransformed>>(), services: s => s.AddSingleton(new Received<BatchTransformed>())))
        {
        }

        var url = (await sqs.GetQueueUrlAsync(topology.ComputeQueue.Name)).QueueUrl;
        var attributes = (await sqs.GetQueueAttributesAsync(url, ["All"])).Attributes;
        Assert.Contains("\"AllowSubscribedTopics\"", attributes["Policy"]);
        Assert.Contains("\"AllowEventBusTopics\"", attributes["Policy"]);
        Assert.Equal(
            ((int)topology.ComputeQueue.VisibilityTimeout.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
            attributes["VisibilityTimeout"]);
        var subscriptions = await aws.CreateSnsClient().ListAllSubscriptionsByTopicAsync(
            (await aws.CreateSnsClient().FindTopicArnAsync(topology.BatchTransformedTopic.Name))!);
        Assert.Single(subscriptions, s => s.Endpoint == attributes["QueueArn"]);
    }

    [Fact]
    public async Task Ensuring_an_endpoint_on_a_queue_made_by_hand_wires_its_dead_letter_queue()
    {
        using var sqs = aws.CreateSqsClient();
        var url = (await sqs.CreateQueueAsync("made-by-hand")).QueueUrl;

        await using (await BusHost.StartAsync(aws, "made-by-hand",
            bus => bus.AddSubscription<BatchRejected, Inbox<BatchRejected>>(), services: s => s.AddSingleton(new Received<BatchRejected>())))
        {
        }

        var redrive = System.Text.Json.Nodes.JsonNode.Parse((await sqs.GetQueueAttributesAsync(url, ["RedrivePolicy"])).Attributes["RedrivePolicy"])!;
        var deadLetterUrl = (await sqs.GetQueueUrlAsync("made-by-hand_error")).QueueUrl;
        Assert.Equal((await sqs.GetQueueAttributesAsync(deadLetterUrl, ["QueueArn"])).QueueARN, redrive["deadLetterTargetArn"]!.GetValue<string>());
        Assert.Equal(5 + 5, redrive["maxReceiveCount"]!.GetValue<int>()); // MaxReceiveCount and SpareReceives
    }
}
