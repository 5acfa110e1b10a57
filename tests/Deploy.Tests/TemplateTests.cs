using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using Pipeline.Storage.Batches;
using Pipeline.Topology;
using Pipeline.Topology.Access;

namespace Deploy.Tests;

/// <summary>The synthesized CloudFormation template, against the topology, the access declarations and the settings.</summary>
[Collection(CdkCollection.Name)]
public sealed class TemplateTests(SynthesizedStack stack)
{
    private readonly PipelineTopology _topology = stack.Topology;

    /// <summary>The bucket as the template names it by default: the environment's, in the stack's account and region.</summary>
    private const string Bucket = "pipeline-data-{AWS::AccountId}-{AWS::Region}";

    [Fact]
    public void Every_table_is_in_the_stack_with_its_keys_and_indexes_on_demand_with_point_in_time_recovery()
    {
        Assert.Equal(_topology.Tables.Count, stack.Resources("AWS::DynamoDB::Table").Count());
        foreach (var table in _topology.Tables)
        {
            stack.Template.HasResource("AWS::DynamoDB::Table", new Dictionary<string, object>
            {
                ["DeletionPolicy"] = "RetainExceptOnCreate",
                ["Properties"] = new Dictionary<string, object>
                {
                    ["TableName"] = table.Name,
                    ["BillingMode"] = "PAY_PER_REQUEST",
                    ["PointInTimeRecoverySpecification"] = new Dictionary<string, object> { ["PointInTimeRecoveryEnabled"] = true },
                    ["KeySchema"] = Match.Exact(KeySchema(table.Key)),
                    ["AttributeDefinitions"] = Match.ArrayWith(table.KeyAttributes
                        .Select(a => (object)new Dictionary<string, object>
                        {
                            ["AttributeName"] = a.Name,
                            ["AttributeType"] = a.Type == KeyAttributeType.Number ? "N" : "S",
                        })
                        .ToArray()),
                    ["GlobalSecondaryIndexes"] = table.GlobalIndexes.Count == 0 ? Match.Absent() : Match.Exact(table.GlobalIndexes
                        .Select(i => (object)new Dictionary<string, object>
                        {
                            ["IndexName"] = i.Name,
                            ["KeySchema"] = KeySchema(i.Key),
                            ["Projection"] = new Dictionary<string, object> { ["ProjectionType"] = "ALL" },
                        }).ToArray()),
                },
            });
        }
    }

    [Fact]
    public void Every_queue_has_its_dead_letter_queue_with_the_redrive_timeouts_and_size_limit_of_the_local_provisioner()
    {
        var queues = stack.Resources("AWS::SQS::Queue").ToDictionary(q => (string)q.Resource["Properties"]!["QueueName"]!, q => q);
        Assert.Equal(_topology.Queues.Count * 2, queues.Count);
        foreach (var queue in _topology.Queues)
        {
            var properties = queues[queue.Name].Resource["Properties"]!;
            Assert.Equal((int)queue.VisibilityTimeout.TotalSeconds, (int)properties["VisibilityTimeout"]!);
            Assert.Equal(QueueSpec.MaxMessageBytes, (int)properties["MaximumMessageSize"]!);
            Assert.Equal(queue.RedriveMaxReceiveCount, (int)properties["RedrivePolicy"]!["maxReceiveCount"]!);
            Assert.Equal(queues[queue.DeadLetterQueueName].Id, (string)properties["RedrivePolicy"]!["deadLetterTargetArn"]!["Fn::GetAtt"]![0]!);
            Assert.True((bool)properties["SqsManagedSseEnabled"]!);

            var deadLetters = queues[queue.DeadLetterQueueName].Resource["Properties"]!;
            Assert.Equal((int)QueueSpec.DeadLetterRetention.TotalSeconds, (int)deadLetters["MessageRetentionPeriod"]!);
            Assert.Null(deadLetters["MaximumMessageSize"]); // SQS's default, 1 MiB: room for a dead letter's fault attributes
        }
    }

    [Fact]
    public void Every_topic_and_subscription_of_the_topology_is_there_with_raw_delivery()
    {
        var topics = stack.Resources("AWS::SNS::Topic").ToDictionary(t => t.Id, t => (string)t.Resource["Properties"]!["TopicName"]!);
        // And the deployment's own operations topic (OperationsTests), which nothing of the pipeline uses.
        Assert.Equal(_topology.Topics.Select(t => t.Name).Append(stack.Topology.OperationsTopicName).Order(), topics.Values.Order());

        var subscriptions = stack.Resources("AWS::SNS::Subscription")
            .Select(s => s.Resource["Properties"]!)
            .Where(p => (string?)p["Protocol"] == "sqs")
            .Select(p => (
                Topic: topics[(string)p["TopicArn"]!["Ref"]!],
                Queue: TemplateReader.Render(stack, p["Endpoint"]!),
                Raw: (bool?)p["RawMessageDelivery"]))
            .ToList();
        Assert.Equal(
            _topology.Subscriptions.Select(s => (s.Topic.Name, $"queue/{s.Queue.Name}", (bool?)s.RawMessageDelivery)).Order(),
            subscriptions.Order());
    }

    /// <summary>Every topic in the stack, whoever adds it, refuses a publish without TLS (CDK 2.160's EnforceSSL writes nothing: the stack does).</summary>
    [Fact]
    public void Every_topic_has_a_policy_that_refuses_publishing_without_tls()
    {
        foreach (var template in stack.Configurations.Prepend(stack))
        {
            var topics = template.Resources("AWS::SNS::Topic").Select(t => t.Id).ToList();
            Assert.NotEmpty(topics);
            var tlsOnly = template.Resources("AWS::SNS::TopicPolicy").Select(p => p.Resource["Properties"]!)
                .Where(p => p["PolicyDocument"]!["Statement"]!.AsArray().Any(s =>
                    (string?)s!["Effect"] == "Deny"
                    && TemplateReader.OneOrMany(s["Action"]!).Any(a => (string?)a == "sns:Publish")
                    && (s["Principal"]!.ToJsonString() is "\"*\"" or "{\"AWS\":\"*\"}")
                    && (string?)s["Condition"]?["Bool"]?["aws:SecureTransport"] == "false"))
                .SelectMany(p => p["Topics"]!.AsArray().Select(t => (string)t!["Ref"]!))
                .ToHashSet();
            Assert.All(topics, topic => Assert.True(tlsOnly.Contains(topic), $"{template}: topic {topic} has no policy that refuses publishing without TLS"));
        }
    }

    [Fact]
    public void The_alerts_topic_has_an_email_subscription_for_each_address_of_the_setting()
    {
        var alerts = stack.Resources("AWS::SNS::Topic").Single(t => (string?)t.Resource["Properties"]!["TopicName"] == _topology.AlertsTopic.Name).Id;

        var emails = stack.Resources("AWS::SNS::Subscription").Select(s => s.Resource["Properties"]!)
            .Where(p => (string?)p["Protocol"] == "email" && (string?)p["TopicArn"]!["Ref"] != OperationsTopic)
            .Select(p => ((string)p["TopicArn"]!["Ref"]!, (string)p["Endpoint"]!));

        Assert.Equal([(alerts, "data@example.com"), (alerts, "ops@example.com")], emails.Order());
    }

    [Fact]
    public void The_bucket_is_private_encrypted_versioned_and_refuses_plain_http()
    {
        Assert.Equal(_topology.Bucket.Name, TemplateReader.Render(stack, stack.DataBucket.Resource["Properties"]!["BucketName"]!));
        stack.Template.HasResourceProperties("AWS::S3::Bucket", new Dictionary<string, object>
        {
            ["PublicAccessBlockConfiguration"] = new Dictionary<string, object>
            {
                ["BlockPublicAcls"] = true,
                ["BlockPublicPolicy"] = true,
                ["IgnorePublicAcls"] = true,
                ["RestrictPublicBuckets"] = true,
            },
            ["VersioningConfiguration"] = new Dictionary<string, object> { ["Status"] = "Enabled" },
            ["BucketEncryption"] = Match.ObjectLike(new Dictionary<string, object>
            {
                ["ServerSideEncryptionConfiguration"] = Match.ArrayWith([Match.ObjectLike(new Dictionary<string, object>
                {
                    ["ServerSideEncryptionByDefault"] = new Dictionary<string, object> { ["SSEAlgorithm"] = "aws:kms" },
                    ["BucketKeyEnabled"] = true,
                })]),
            }),
        });
        stack.Template.HasResourceProperties("AWS::S3::BucketPolicy", new Dictionary<string, object>
        {
            ["PolicyDocument"] = Match.ObjectLike(new Dictionary<string, object>
            {
                ["Statement"] = Match.ArrayWith([Match.ObjectLike(new Dictionary<string, object>
                {
                    ["Effect"] = "Deny",
                    ["Condition"] = new Dictionary<string, object> { ["Bool"] = new Dictionary<string, object> { ["aws:SecureTransport"] = "false" } },
                })]),
            }),
        });
    }

    [Fact]
    public void Manifests_created_in_the_bucket_notify_the_manifest_events_queue_which_lets_only_the_bucket_send()
    {
        var (bucketId, bucket) = stack.DataBucket;
        var configuration = Assert.Single(bucket["Properties"]!["NotificationConfiguration"]!["QueueConfigurations"]!.AsArray())!;
        Assert.Equal("s3:ObjectCreated:*", (string)configuration["Event"]!);
        Assert.Equal($"queue/{_topology.ManifestEventsQueue.Name}", TemplateReader.Render(stack, configuration["Queue"]!));
        var rules = configuration["Filter"]!["S3Key"]!["Rules"]!.AsArray().ToDictionary(r => (string)r!["Name"]!, r => (string)r!["Value"]!);
        Assert.Equal(new Dictionary<string, string> { ["prefix"] = "data/", ["suffix"] = ".json" }, rules);

        // S3 filters know a prefix and a suffix only: every manifest passes, and the handler checks the exact key.
        var manifest = BatchLayout.ManifestKey("20250409");
        Assert.True(manifest.StartsWith(rules["prefix"], StringComparison.Ordinal) && manifest.EndsWith(rules["suffix"], StringComparison.Ordinal));
        Assert.False(BatchLayout.IsManifestKey("data/20250409/orders/extra.json"));

        // S3 checks at creation that it may send, so the bucket waits for the queue's policy.
        var policyId = stack.Resources("AWS::SQS::QueuePolicy")
            .Single(p => p.Resource["Properties"]!["Queues"]!.AsArray()
                .Any(q => TemplateReader.Render(stack, q!) == $"queue/{_topology.ManifestEventsQueue.Name}"))
            .Id;
        Assert.Contains(policyId, TemplateReader.OneOrMany(stack.Resource(bucketId)["DependsOn"]!).Select(d => (string)d!));
        var statement = stack.Resource(policyId)["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray()
            .Single(s => (string?)s!["Sid"] == "AllowBucketNotifications")!;
        Assert.Equal("s3.amazonaws.com", (string)statement["Principal"]!["Service"]!);
        Assert.Equal(
            $"arn:{{AWS::Partition}}:s3:::{_topology.Bucket.Name}",
            TemplateReader.Render(stack, statement["Condition"]!["ArnEquals"]!["aws:SourceArn"]!));
    }

    /// <summary>What each service's code calls, checked by hand against Services.*/Handlers, Pipeline.Storage and the bus.</summary>
    public static TheoryData<string, string[]> ExpectedGrants => new()
    {
        {
            "validate",
            [
                "dynamodb:DescribeTable table/pipeline-order-keys", "dynamodb:GetItem table/pipeline-order-keys", "dynamodb:PutItem table/pipeline-order-keys",
                "dynamodb:DescribeTable table/pipeline-runs", "dynamodb:GetItem table/pipeline-runs", "dynamodb:PutItem table/pipeline-runs",
                "dynamodb:Query table/pipeline-runs", "dynamodb:UpdateItem table/pipeline-runs",
                $"s3:AbortMultipartUpload bucket/{Bucket}/errors/*",
                $"s3:AbortMultipartUpload bucket/{Bucket}/processed/*/validation.json",
                $"s3:DeleteObject bucket/{Bucket}/data/*",
                $"s3:GetObject bucket/{Bucket}/data/*", $"s3:GetObject bucket/{Bucket}/errors/*",
                $"s3:ListBucket bucket/{Bucket}",
                $"s3:PutObject bucket/{Bucket}/errors/*", $"s3:PutObject bucket/{Bucket}/processed/*/validation.json",
                "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchRejected", "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchSubmitted",
                "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchUploadRepeated", "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchValidated",
                "sns:ListSubscriptionsByTopic topic/Pipeline_Contracts-BatchSubmitted",
                "sns:Publish topic/Pipeline_Contracts-BatchRejected", "sns:Publish topic/Pipeline_Contracts-BatchUploadRepeated",
                "sns:Publish topic/Pipeline_Contracts-BatchValidated",
                .. Consumer("pipeline-validate"), .. Consumer("pipeline-manifest-events"),
            ]
        },
        {
            "transform",
            [
                "dynamodb:DescribeTable table/pipeline-runs", "dynamodb:UpdateItem table/pipeline-runs",
                $"s3:AbortMultipartUpload bucket/{Bucket}/transformed/*",
                $"s3:GetObject bucket/{Bucket}/data/*",
                $"s3:ListBucket bucket/{Bucket}",
                $"s3:PutObject bucket/{Bucket}/transformed/*",
                "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchTransformed", "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchValidated",
                "sns:ListSubscriptionsByTopic topic/Pipeline_Contracts-BatchValidated",
                "sns:Publish topic/Pipeline_Contracts-BatchTransformed",
                .. Consumer("pipeline-transform"),
            ]
        },
        {
            "compute",
            [
                "dynamodb:BatchGetItem table/pipeline-kpi-contributions", "dynamodb:BatchWriteItem table/pipeline-kpi-contributions",
                "dynamodb:DescribeTable table/pipeline-kpi-contributions",
                "dynamodb:GetItem table/pipeline-kpi-contributions", "dynamodb:PutItem table/pipeline-kpi-contributions",
                "dynamodb:Query table/pipeline-kpi-contributions",
                "dynamodb:BatchGetItem table/pipeline-kpi-days", "dynamodb:DescribeTable table/pipeline-kpi-days", "dynamodb:GetItem table/pipeline-kpi-days",
                "dynamodb:PutItem table/pipeline-kpi-days",
                "dynamodb:BatchWriteItem table/pipeline-category-kpis", "dynamodb:DescribeTable table/pipeline-category-kpis",
                "dynamodb:BatchWriteItem table/pipeline-order-kpis", "dynamodb:DescribeTable table/pipeline-order-kpis",
                "dynamodb:DescribeTable table/pipeline-runs", "dynamodb:GetItem table/pipeline-runs", "dynamodb:PutItem table/pipeline-runs",
                "dynamodb:Query table/pipeline-runs", "dynamodb:UpdateItem table/pipeline-runs",
                $"s3:AbortMultipartUpload bucket/{Bucket}/curated/*",
                $"s3:AbortMultipartUpload bucket/{Bucket}/processed/*", $"s3:AbortMultipartUpload bucket/{Bucket}/retracted/*",
                $"s3:DeleteObject bucket/{Bucket}/curated/*",
                $"s3:DeleteObject bucket/{Bucket}/data/*", $"s3:DeleteObject bucket/{Bucket}/processed/*",
                $"s3:GetObject bucket/{Bucket}/data/*", $"s3:GetObject bucket/{Bucket}/processed/*",
                $"s3:GetObject bucket/{Bucket}/retracted/*", $"s3:GetObject bucket/{Bucket}/transformed/*",
                $"s3:ListBucket bucket/{Bucket}",
                $"s3:PutObject bucket/{Bucket}/curated/*",
                $"s3:PutObject bucket/{Bucket}/processed/*", $"s3:PutObject bucket/{Bucket}/retracted/*",
                "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchRetracted", "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchRetractionRefused",
                "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchRetractionRequested", "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchTransformed",
                "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchUploadRepeated", "sns:GetTopicAttributes topic/Pipeline_Contracts-KpisUpdated",
                "sns:ListSubscriptionsByTopic topic/Pipeline_Contracts-BatchRetractionRequested",
                "sns:ListSubscriptionsByTopic topic/Pipeline_Contracts-BatchTransformed",
                "sns:ListSubscriptionsByTopic topic/Pipeline_Contracts-BatchUploadRepeated",
                "sns:Publish topic/Pipeline_Contracts-BatchRetracted", "sns:Publish topic/Pipeline_Contracts-BatchRetractionRefused",
                "sns:Publish topic/Pipeline_Contracts-KpisUpdated",
                .. Consumer("pipeline-compute"),
            ]
        },
        {
            "notifier",
            [
                "dynamodb:DeleteItem table/pipeline-processed-messages", "dynamodb:DescribeTable table/pipeline-processed-messages",
                "dynamodb:GetItem table/pipeline-processed-messages", "dynamodb:PutItem table/pipeline-processed-messages",
                "dynamodb:UpdateItem table/pipeline-processed-messages",
                "dynamodb:DescribeTable table/pipeline-latest-alert", "dynamodb:UpdateItem table/pipeline-latest-alert",
                "dynamodb:BatchGetItem table/pipeline-order-kpis", "dynamodb:DescribeTable table/pipeline-order-kpis",
                "dynamodb:DescribeTable table/pipeline-data-quality", "dynamodb:Query table/pipeline-data-quality",
                "dynamodb:UpdateItem table/pipeline-data-quality",
                "dynamodb:DescribeTable table/pipeline-runs", "dynamodb:GetItem table/pipeline-runs", "dynamodb:Query table/pipeline-runs",
                "dynamodb:Query table/pipeline-runs/index/open-runs", "dynamodb:UpdateItem table/pipeline-runs",
                // The anomaly check: order KPI rows read (with their categories' revenue), findings kept.
                "dynamodb:BatchGetItem table/pipeline-order-kpis", "dynamodb:DescribeTable table/pipeline-order-kpis",
                "dynamodb:DescribeTable table/pipeline-data-quality", "dynamodb:PutItem table/pipeline-data-quality",
                "dynamodb:Query table/pipeline-data-quality",
                "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchRejected", "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchRetracted",
                "sns:GetTopicAttributes topic/Pipeline_Contracts-BatchRetractionRefused",
                "sns:GetTopicAttributes topic/Pipeline_Contracts-KpisUpdated", "sns:GetTopicAttributes topic/pipeline-alerts",
                "sns:GetTopicAttributes topic/Pipeline_Contracts-ReconciliationFinished",
                "sns:ListSubscriptionsByTopic topic/Pipeline_Contracts-ReconciliationFinished",
                "sns:ListSubscriptionsByTopic topic/Pipeline_Contracts-BatchRejected", "sns:ListSubscriptionsByTopic topic/Pipeline_Contracts-BatchRetracted",
                "sns:ListSubscriptionsByTopic topic/Pipeline_Contracts-BatchRetractionRefused",
                "sns:ListSubscriptionsByTopic topic/Pipeline_Contracts-KpisUpdated",
                "sns:Publish topic/pipeline-alerts",
                .. Consumer("pipeline-notifier"),
                .. DeadLetterWatcher("pipeline-validate"), .. DeadLetterWatcher("pipeline-manifest-events"), .. DeadLetterWatcher("pipeline-transform"),
                .. DeadLetterWatcher("pipeline-compute"), .. DeadLetterWatcher("pipeline-notifier"),
            ]
        },
        {
            "dashboard",
            [
                "dynamodb:BatchGetItem table/pipeline-order-kpis", "dynamodb:DescribeTable table/pipeline-order-kpis",
                "dynamodb:Scan table/pipeline-order-kpis",
                "dynamodb:DescribeTable table/pipeline-category-kpis", "dynamodb:Query table/pipeline-category-kpis",
                "dynamodb:Scan table/pipeline-category-kpis",
                "dynamodb:DescribeTable table/pipeline-runs", "dynamodb:Query table/pipeline-runs",
                "dynamodb:Query table/pipeline-runs/index/by-submission", "dynamodb:Query table/pipeline-runs/index/open-runs",
                "dynamodb:DescribeTable table/pipeline-latest-alert", "dynamodb:GetItem table/pipeline-latest-alert",
                "dynamodb:DescribeTable table/pipeline-data-quality", "dynamodb:Query table/pipeline-data-quality",
                $"s3:GetObject bucket/{Bucket}/errors/*",
                $"s3:ListBucket bucket/{Bucket}",
                .. DepthReader("pipeline-validate"), .. DepthReader("pipeline-manifest-events"), .. DepthReader("pipeline-transform"),
                .. DepthReader("pipeline-compute"), .. DepthReader("pipeline-notifier"),
            ]
        },
    };

    [Theory]
    [MemberData(nameof(ExpectedGrants))]
    public void Each_task_role_allows_exactly_what_its_service_calls(string service, string[] expected)
    {
        Assert.Equal(expected.Distinct().Order(StringComparer.Ordinal), TemplateReader.Grants(stack, AccessPolicyName(service)));
    }

    [Fact]
    public void No_task_scans_the_runs_table_and_only_the_notifier_and_the_dashboard_query_its_indexes()
    {
        Assert.DoesNotContain(TemplateReader.AllGrants(stack),
            g => g.Action == "dynamodb:Scan" && g.Resource.StartsWith("table/pipeline-runs", StringComparison.Ordinal));
        string[] IndexQueries(string service) => TemplateReader.Grants(stack, AccessPolicyName(service))
            .Where(g => g.Contains("table/pipeline-runs/index/", StringComparison.Ordinal)).ToArray();

        Assert.Equal(["dynamodb:Query table/pipeline-runs/index/open-runs"], IndexQueries("notifier"));
        Assert.Equal(2, IndexQueries("dashboard").Length);
        Assert.All(new[] { "validate", "transform", "compute" }, service => Assert.Empty(IndexQueries(service)));
    }

    [Fact]
    public void The_notifier_only_reads_the_kpi_tables_and_transform_cannot_touch_errors()
    {
        // Its freshness and anomaly checks read the KPI rows of the days a fold changed; nothing else of it touches them.
        var notifier = TemplateReader.Grants(stack, AccessPolicyName("notifier"));
        Assert.All(notifier.Where(g => g.Contains("kpi", StringComparison.Ordinal)),
            g => Assert.Matches("^dynamodb:(DescribeTable|BatchGetItem|Query) ", g));

        var transform = TemplateReader.Grants(stack, AccessPolicyName("transform"));
        Assert.DoesNotContain(transform, g => g.Contains("/errors/", StringComparison.Ordinal));
        Assert.DoesNotContain(transform, g => g.Contains("kpi", StringComparison.Ordinal));
    }

    [Fact]
    public void Only_compute_archives_into_processed_and_validate_writes_nothing_there_but_its_reports()
    {
        string[] Writes(string service) => TemplateReader.Grants(stack, AccessPolicyName(service))
            .Where(g => g.Contains("/processed/", StringComparison.Ordinal) && !g.StartsWith("s3:GetObject", StringComparison.Ordinal)).ToArray();

        Assert.Equal([$"s3:AbortMultipartUpload bucket/{Bucket}/processed/*/validation.json",
            $"s3:PutObject bucket/{Bucket}/processed/*/validation.json"], Writes("validate"));
        Assert.Contains($"s3:PutObject bucket/{Bucket}/processed/*", Writes("compute"));
        Assert.Empty(Writes("transform"));
        Assert.Empty(Writes("notifier"));
        Assert.Empty(Writes("dashboard"));
    }

    [Fact]
    public void Only_compute_writes_and_deletes_in_curated_and_no_worker_reads_it()
    {
        string[] Curated(string service) => TemplateReader.Grants(stack, AccessPolicyName(service))
            .Where(g => g.Contains("/curated/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal([$"s3:AbortMultipartUpload bucket/{Bucket}/curated/*", $"s3:DeleteObject bucket/{Bucket}/curated/*",
            $"s3:PutObject bucket/{Bucket}/curated/*"], Curated("compute"));
        Assert.All(new[] { "validate", "transform", "notifier", "dashboard" }, service => Assert.Empty(Curated(service)));
    }

    [Fact]
    public void The_dashboard_writes_no_data_publishes_nothing_and_reads_only_reports_in_s3()
    {
        var grants = TemplateReader.Grants(stack, AccessPolicyName("dashboard"));

        Assert.DoesNotContain(grants, g => g.StartsWith("dynamodb:", StringComparison.Ordinal)
            && !new[] { "dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan" }.Contains(g.Split(' ')[0]));
        Assert.DoesNotContain(grants, g => g.StartsWith("sns:Publish", StringComparison.Ordinal));
        Assert.DoesNotContain(grants, g => g.StartsWith("s3:", StringComparison.Ordinal)
            && !g.StartsWith("s3:GetObject", StringComparison.Ordinal) && !g.StartsWith("s3:ListBucket", StringComparison.Ordinal));
        Assert.DoesNotContain(grants, g => g.Contains("/data/", StringComparison.Ordinal)
            || g.Contains("/transformed/", StringComparison.Ordinal) || g.Contains("/processed/", StringComparison.Ordinal));
        // It learns of alerts from the latest-alert item: no queue of its own, no message received or deleted anywhere.
        Assert.DoesNotContain(grants, g => g.StartsWith("sqs:", StringComparison.Ordinal)
            && !g.StartsWith("sqs:GetQueueUrl", StringComparison.Ordinal) && !g.StartsWith("sqs:GetQueueAttributes", StringComparison.Ordinal));
    }

    [Fact]
    public void The_dashboard_runs_one_task_behind_an_internal_load_balancer_that_admits_only_the_vpc_and_checks_its_health()
    {
        var balancer = Assert.Single(stack.Resources("AWS::ElasticLoadBalancingV2::LoadBalancer")).Resource["Properties"]!;
        Assert.Equal("internal", (string)balancer["Scheme"]!);

        var listener = Assert.Single(stack.Resources("AWS::ElasticLoadBalancingV2::Listener")).Resource["Properties"]!;
        Assert.Equal((DashboardService.HttpListenerPort, "HTTP"), ((int)listener["Port"]!, (string)listener["Protocol"]!));
        var target = Assert.Single(stack.Resources("AWS::ElasticLoadBalancingV2::TargetGroup")).Resource["Properties"]!;
        Assert.Equal((DashboardService.HealthCheckPath, ServiceTask.HttpPort, "200"),
            ((string)target["HealthCheckPath"]!, (int)target["Port"]!, (string)target["Matcher"]!["HttpCode"]!));

        // In: the VPC's own block to the load balancer, the load balancer to the tasks; nothing else anywhere.
        var balancerGroup = TemplateReader.Render(stack, balancer["SecurityGroups"]![0]!);
        var ingress = stack.Resources("AWS::EC2::SecurityGroup").SelectMany(g => g.Resource["Properties"]!["SecurityGroupIngress"]?.AsArray() ?? [])
            .Select(rule => TemplateReader.Render(stack, rule!["CidrIp"]!) + $":{(int)rule["FromPort"]!}").ToList();
        var vpc = stack.Resources("AWS::EC2::VPC").Single().Id;
        Assert.Equal([$"{vpc}:{DashboardService.HttpListenerPort}"], ingress);
        var fromBalancer = Assert.Single(stack.Resources("AWS::EC2::SecurityGroupIngress")).Resource["Properties"]!;
        Assert.Equal(
            (ServiceTask.HttpPort, balancerGroup),
            ((int)fromBalancer["FromPort"]!, TemplateReader.Render(stack, fromBalancer["SourceSecurityGroupId"]!)));

        stack.Template.HasResourceProperties("AWS::ECS::Service", new Dictionary<string, object>
        {
            ["ServiceName"] = _topology.ServiceName("dashboard"),
            ["DesiredCount"] = 1,
            ["LaunchType"] = "FARGATE",
            ["LoadBalancers"] = Match.ArrayWith(
                [Match.ObjectLike(new Dictionary<string, object> { ["ContainerName"] = "dashboard", ["ContainerPort"] = ServiceTask.HttpPort })]),
        });
        var container = ContainerOf("dashboard");
        Assert.Equal(["CMD", ServiceTask.Executable("dashboard"), "--health-check"], container["HealthCheck"]!["Command"]!.AsArray().Select(c => (string)c!));
        Assert.True((bool)container["ReadonlyRootFilesystem"]!);
        Assert.Contains("{\"Ref\":\"RepositoryDashboard\"}", container["Image"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("DashboardUrl", stack.Json["Outputs"]!.AsObject().Select(o => o.Key));
    }

    [Fact]
    public void No_task_role_may_ask_for_a_retraction_or_publish_an_alert_but_the_notifier()
    {
        var publishes = TemplateReader.AllGrants(stack).Where(g => g.Action == "sns:Publish").ToList();

        // Retractions come from operators (pipeline retract), whom IAM outside this stack allows (docs/security.md).
        Assert.DoesNotContain(publishes, g => g.Resource == $"topic/{_topology.BatchRetractionRequestedTopic.Name}");
        Assert.Equal([AccessPolicyName("notifier")],
            publishes.Where(g => g.Resource == $"topic/{_topology.AlertsTopic.Name}").Select(g => g.Policy).Distinct().Select(PolicyName));
    }

    [Fact]
    public void The_tasks_admit_only_the_dashboards_load_balancer_and_reach_out_only_over_https()
    {
        var taskGroups = stack.Resources("AWS::ECS::Service")
            .SelectMany(s => s.Resource["Properties"]!["NetworkConfiguration"]!["AwsvpcConfiguration"]!["SecurityGroups"]!.AsArray())
            .Select(g => TemplateReader.Render(stack, g!)).Distinct().ToList();
        var balancerGroups = stack.Resources("AWS::ElasticLoadBalancingV2::LoadBalancer")
            .SelectMany(b => b.Resource["Properties"]!["SecurityGroups"]!.AsArray()).Select(g => TemplateReader.Render(stack, g!)).ToList();

        Assert.Equal(2, taskGroups.Count); // the workers', the dashboard's
        foreach (var group in taskGroups)
        {
            var properties = stack.Resource(group)["Properties"]!;
            Assert.Null(properties["SecurityGroupIngress"]);
            var egress = Assert.Single(properties["SecurityGroupEgress"]!.AsArray())!;
            Assert.Equal(
                ("0.0.0.0/0", "tcp", 443, 443),
                ((string)egress["CidrIp"]!, (string)egress["IpProtocol"]!, (int)egress["FromPort"]!, (int)egress["ToPort"]!));
        }
        // The one way in to any task: the dashboard's load balancer, to the container port.
        var ingress = Assert.Single(stack.Resources("AWS::EC2::SecurityGroupIngress")).Resource["Properties"]!;
        Assert.Equal(balancerGroups, [TemplateReader.Render(stack, ingress["SourceSecurityGroupId"]!)]);
        Assert.Equal(ServiceTask.HttpPort, (int)ingress["FromPort"]!);
        // And the load balancer reaches nothing but those tasks.
        Assert.Null(stack.Resource(Assert.Single(balancerGroups))["Properties"]!["SecurityGroupEgress"]);
        var balancerEgress = Assert.Single(stack.Resources("AWS::EC2::SecurityGroupEgress")).Resource["Properties"]!;
        Assert.Contains(TemplateReader.Render(stack, balancerEgress["DestinationSecurityGroupId"]!), taskGroups);
    }

    [Fact]
    public void No_container_is_given_a_credential_the_task_roles_are_the_only_ones()
    {
        var containers = stack.Resources("AWS::ECS::TaskDefinition").SelectMany(t => t.Resource["Properties"]!["ContainerDefinitions"]!.AsArray()).ToList();
        var names = containers.SelectMany(c => c!["Environment"]?.AsArray() ?? []).Select(e => (string)e!["Name"]!).ToList();

        // The workers and the dashboard, each with its collector, and the reconciliation task's command.
        Assert.Equal((new PipelineServices(_topology).All.Count + 1) * 2 + 1, containers.Count);
        Assert.Contains("Pipeline__BucketName", names);
        Assert.DoesNotContain(names, n => n.Contains("SECRET", StringComparison.OrdinalIgnoreCase)
            || n.Contains("ACCESS_KEY", StringComparison.OrdinalIgnoreCase)
            || n.Contains("TOKEN", StringComparison.OrdinalIgnoreCase)
            || n.Contains("PASSWORD", StringComparison.OrdinalIgnoreCase));
        Assert.All(containers, c => Assert.Null(c!["Secrets"]));
    }

    [Fact]
    public void The_access_lists_in_docs_security_md_are_the_task_roles_grants()
    {
        var lists = string.Join("\n", new[] { "compute", "dashboard", "notifier", "reconcile", "transform", "validate" }.Select(service =>
            $"\n**{service}**\n\n{AccessTable(stack, AccessPolicyName(service))}")) + "\n";
        AssertSecurityDocSection("access lists", lists);
    }

    /// <summary>A policy's grants as docs/security.md lists them: a row per resource, its actions sorted.</summary>
    internal static string AccessTable(StackTemplate stack, string policyName) => "| resource | actions |\n| --- | --- |\n" + string.Join("\n",
        TemplateReader.Grants(stack, policyName)
            .Select(g => (Action: g[..g.IndexOf(' ', StringComparison.Ordinal)], Resource: g[(g.IndexOf(' ', StringComparison.Ordinal) + 1)..]))
            .GroupBy(g => g.Resource).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"| `{g.Key}` | {string.Join(", ", g.Select(x => x.Action).Distinct().Order(StringComparer.Ordinal))} |"));

    /// <summary>
    /// The part of docs/security.md between <c>&lt;!-- {what}: generated ... --&gt;</c> and <c>&lt;!-- end of {what} --&gt;</c> is
    /// <paramref name="expected"/>.
    /// </summary>
    internal static void AssertSecurityDocSection(string what, string expected)
    {
        var begin = $"<!-- {what}: generated from the template, checked by tests/Deploy.Tests -->";
        var end = $"<!-- end of {what} -->";
        var doc = File.ReadAllText(Path.Combine(RepositoryFolder.Root, "docs", "security.md")).ReplaceLineEndings("\n");

        var start = doc.IndexOf(begin, StringComparison.Ordinal);
        var stop = doc.IndexOf(end, StringComparison.Ordinal);

        Assert.True(start >= 0 && stop > start, $"docs/security.md has no section between {begin} and {end}");
        Assert.True(doc[(start + begin.Length)..stop] == expected,
            $"docs/security.md's {what} and the template's grants part ways; the template's are:\n{begin}{expected}{end}");
    }

    /// <summary>
    /// No action has a wildcard, and "*" as a resource appears only where AWS offers no resource-level permission
    /// (each with its reason; the same list is in docs/deploy.md).
    /// </summary>
    private static readonly Dictionary<string, string> WildcardResourceAllowed = new()
    {
        ["xray:PutTraceSegments"] = "X-Ray has no resource-level permissions; the collector sidecar sends the traces",
        ["ecr:GetAuthorizationToken"] = "the ECR login token is account-wide; image pulls themselves are limited to the service's repository",
    };

    [Fact]
    public void No_action_is_a_wildcard_and_star_resources_are_only_the_two_aws_allows_no_other_way()
    {
        var grants = TemplateReader.AllGrants(stack).ToList();
        Assert.NotEmpty(grants);
        Assert.DoesNotContain(grants, g => g.Action.Contains('*', StringComparison.Ordinal));
        Assert.DoesNotContain(grants, g => g.Resource == "*" && !WildcardResourceAllowed.ContainsKey(g.Action));
        // Object keys are the one place a resource has a wildcard: a prefix of the bucket (data/shared/ for shared product files), or a
        // version's report in any folder under one; and the Athena results bucket's objects, which are nothing but results.
        var report = System.Text.RegularExpressions.Regex.Escape(BucketSpec.ReportName);
        var results = stack.LogicalId(stack.Stack.Node.FindChild("Analytics").Node.FindChild("Results"));
        Assert.All(grants.Where(g => g.Resource != "*" && g.Resource.Contains('*', StringComparison.Ordinal)),
            g => Assert.Matches($"^(bucket/{_topology.Bucket.Name}/[a-z]+/(shared/)?\\*(/{report})?|bucket/{results}/\\*)$", g.Resource));
    }

    [Fact]
    public void Every_worker_runs_on_fargate_with_rollback_a_health_check_and_its_image_from_the_parameters()
    {
        foreach (var access in new PipelineServices(_topology).All)
        {
            stack.Template.HasResourceProperties("AWS::ECS::Service", new Dictionary<string, object>
            {
                ["ServiceName"] = _topology.ServiceName(access.Name),
                ["LaunchType"] = "FARGATE",
                ["DeploymentConfiguration"] = Match.ObjectLike(new Dictionary<string, object>
                {
                    ["DeploymentCircuitBreaker"] = new Dictionary<string, object> { ["Enable"] = true, ["Rollback"] = true },
                }),
            });
            var container = ContainerOf(access.Name);
            Assert.Equal(
                ["CMD", ServiceTask.Executable(access.Name), "--health-check"],
                container["HealthCheck"]!["Command"]!.AsArray().Select(c => (string)c!));
            var image = container["Image"]!.ToJsonString();
            Assert.Contains($"{{\"Ref\":\"{PipelineStack.Id("Repository", access.Name)}\"}}", image, StringComparison.Ordinal);
            Assert.Contains("{\"Ref\":\"ImageTag\"}", image, StringComparison.Ordinal);
            Assert.True((bool)container["ReadonlyRootFilesystem"]!);
        }
    }

    [Fact]
    public void Every_worker_scales_on_the_backlog_of_the_queues_it_consumes_and_back_to_the_minimum_when_idle()
    {
        var targets = stack.Resources("AWS::ApplicationAutoScaling::ScalableTarget").ToList();
        Assert.Equal(4, targets.Count);
        foreach (var access in new PipelineServices(_topology).All)
        {
            var minimum = WorkerService.MinTasks(access, stack.Settings);
            var target = targets.Single(t => TemplateReader.Render(stack, t.Resource["Properties"]!["ResourceId"]!)
                .EndsWith($"/service/{_topology.ServiceName(access.Name)}", StringComparison.Ordinal));
            Assert.Equal(
                (minimum, stack.Settings.MaxTasks),
                ((int)target.Resource["Properties"]!["MinCapacity"]!, (int)target.Resource["Properties"]!["MaxCapacity"]!));

            var policies = stack.Resources("AWS::ApplicationAutoScaling::ScalingPolicy")
                .Where(p => (string?)p.Resource["Properties"]!["ScalingTargetId"]!["Ref"] == target.Id)
                .ToList();
            var busy = policies.Single(p => (string?)p.Resource["Properties"]!["PolicyName"] == _topology.ServicePolicyName(access.Name, "backlog"))
                .Resource["Properties"]!["StepScalingPolicyConfiguration"]!;
            Assert.Equal("ExactCapacity", (string)busy["AdjustmentType"]!);
            // One task per backlogPerTask messages, up to the maximum.
            Assert.Equal(
                Enumerable.Range(1, stack.Settings.MaxTasks).Select(n => ((n - 1) * stack.Settings.BacklogPerTask, n)),
                busy["StepAdjustments"]!.AsArray().Select(s => ((int)s!["MetricIntervalLowerBound"]!, (int)s["ScalingAdjustment"]!)));
            var idle = policies.Single(p => (string?)p.Resource["Properties"]!["PolicyName"] == _topology.ServicePolicyName(access.Name, "idle"))
                .Resource["Properties"]!["StepScalingPolicyConfiguration"]!;
            Assert.Equal(minimum, (int)idle["StepAdjustments"]![0]!["ScalingAdjustment"]!);

            // Both alarms watch exactly the consumed queues, waiting and in flight.
            foreach (var policy in policies)
            {
                var alarm = stack.Resources("AWS::CloudWatch::Alarm")
                    .Single(a => (string?)a.Resource["Properties"]!["AlarmActions"]![0]!["Ref"] == policy.Id)
                    .Resource["Properties"]!;
                var watched = alarm["Metrics"]!.AsArray().Where(m => m!["MetricStat"] is not null)
                    .Select(m => (
                        (string)m!["MetricStat"]!["Metric"]!["MetricName"]!,
                        TemplateReader.Render(stack, m["MetricStat"]!["Metric"]!["Dimensions"]![0]!["Value"]!)));
                Assert.Equal(
                    access.Consumes.SelectMany(q => new[]
                    {
                        ("ApproximateNumberOfMessagesNotVisible", $"queue/{q.Name}"),
                        ("ApproximateNumberOfMessagesVisible", $"queue/{q.Name}"),
                    }).Order(),
                    watched.Order());
            }
        }
        Assert.Equal(0, stack.Settings.MinTasks); // the batch workers may scale to zero; the notifier keeps one
        Assert.Equal(1, WorkerService.MinTasks(new PipelineServices(_topology).Notifier, stack.Settings));
    }

    [Fact]
    public void Synthesis_reports_no_warnings_or_errors()
    {
        var messages = stack.App.Synth().GetStackByName(stack.Stack.StackName).Messages;

        Assert.Empty(messages.Select(m => $"{m.Level}: {m.Entry.Data}"));
    }

    [Fact]
    public void Synthesis_writes_the_same_bytes_every_time()
    {
        var first = Path.Combine(stack.TempFolder, "first");
        var second = Path.Combine(stack.TempFolder, "second");

        var template = DeployCommand.Synthesize(stack.Settings, first);
        DeployCommand.Synthesize(stack.Settings, second);

        Assert.Equal(Path.Combine(first, "pipeline.template.json"), template);
        foreach (var file in Directory.GetFiles(first))
        {
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(second, Path.GetFileName(file))));
        }
    }

    /// <summary>The operations topic, which the same addresses receive (OperationsTests).</summary>
    private string OperationsTopic => stack.Resources("AWS::SNS::Topic")
        .Single(t => (string?)t.Resource["Properties"]!["TopicName"] == stack.Topology.OperationsTopicName).Id;

    private string AccessPolicyName(string service) => _topology.ServicePolicyName(service, ServiceTask.AccessPolicy);

    private string PolicyName(string logicalId) =>
        (string)stack.Resources("AWS::IAM::Policy").Single(p => p.Id == logicalId).Resource["Properties"]!["PolicyName"]!;

    internal JsonObject ContainerOf(string service) => stack.Resources("AWS::ECS::TaskDefinition")
        .Single(t => (string?)t.Resource["Properties"]!["Family"] == _topology.ServiceName(service)).Resource["Properties"]!["ContainerDefinitions"]!.AsArray()
        .Single(c => (string?)c!["Name"] == service)!.AsObject();

    private static string[] Consumer(string queue) =>
    [
        $"sqs:ChangeMessageVisibility queue/{queue}", $"sqs:DeleteMessage queue/{queue}", $"sqs:GetQueueAttributes queue/{queue}",
        $"sqs:GetQueueUrl queue/{queue}", $"sqs:ReceiveMessage queue/{queue}",
        $"sqs:GetQueueAttributes queue/{queue}_error", $"sqs:GetQueueUrl queue/{queue}_error", $"sqs:SendMessage queue/{queue}_error",
    ];

    private static string[] DepthReader(string queue) =>
    [
        $"sqs:GetQueueAttributes queue/{queue}", $"sqs:GetQueueUrl queue/{queue}",
        $"sqs:GetQueueAttributes queue/{queue}_error", $"sqs:GetQueueUrl queue/{queue}_error",
    ];

    private static string[] DeadLetterWatcher(string queue) =>
        [$"sqs:ChangeMessageVisibility queue/{queue}_error", $"sqs:GetQueueUrl queue/{queue}_error", $"sqs:ReceiveMessage queue/{queue}_error"];

    private static object[] KeySchema(TableKey key) => key.Sort is null
        ? [new Dictionary<string, object> { ["AttributeName"] = key.Partition.Name, ["KeyType"] = "HASH" }]
        : [new Dictionary<string, object> { ["AttributeName"] = key.Partition.Name, ["KeyType"] = "HASH" },
           new Dictionary<string, object> { ["AttributeName"] = key.Sort.Name, ["KeyType"] = "RANGE" }];
}
