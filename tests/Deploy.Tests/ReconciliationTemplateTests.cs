namespace Deploy.Tests;

/// <summary>
/// The reconciliation task in the template: an EventBridge schedule (daily by default, configurable, off) that runs
/// <c>pipeline reconcile --publish</c> from the command's image on Fargate, with a task role that reads processed/, the
/// product files and the KPI tables and publishes only its result; <c>rebuild</c>'s writes only when asked for, in a policy of their own.
/// </summary>
[Collection(CdkCollection.Name)]
public sealed class ReconciliationTemplateTests(SynthesizedStack stack)
{
    private const string Bucket = "bucket/pipeline-data-{AWS::AccountId}-{AWS::Region}";

    private static readonly string[] ReadGrants =
    [
        "dynamodb:BatchGetItem table/pipeline-order-kpis", "dynamodb:DescribeTable table/pipeline-category-kpis",
        "dynamodb:DescribeTable table/pipeline-kpi-contributions", "dynamodb:DescribeTable table/pipeline-order-kpis",
        "dynamodb:DescribeTable table/pipeline-runs", "dynamodb:GetItem table/pipeline-kpi-contributions", "dynamodb:Query table/pipeline-category-kpis",
        "dynamodb:Query table/pipeline-runs", "dynamodb:Scan table/pipeline-category-kpis", "dynamodb:Scan table/pipeline-order-kpis",
        $"s3:GetObject {Bucket}/data/products.csv", $"s3:GetObject {Bucket}/data/shared/*", $"s3:GetObject {Bucket}/processed/*",
        $"s3:ListBucket {Bucket}", "sns:GetTopicAttributes topic/Pipeline_Contracts-ReconciliationFinished",
        "sns:Publish topic/Pipeline_Contracts-ReconciliationFinished",
    ];

    [Fact]
    public void By_default_the_task_runs_reconcile_daily_from_the_commands_image_and_its_role_only_reads_and_publishes_its_result()
    {
        var template = stack.Configuration("defaults");

        var rule = template.Resources("AWS::Events::Rule").Single().Resource["Properties"]!;
        Assert.Equal("cron(30 3 * * ? *)", (string)rule["ScheduleExpression"]!);
        Assert.Equal("ENABLED", (string)rule["State"]!);
        var target = rule["Targets"]![0]!;
        Assert.Equal(1, (int)target["EcsParameters"]!["TaskCount"]!);
        // EventBridge may start this task and pass its roles, nothing else.
        var events = TemplateReader.AllGrants(template).Where(g => g.Policy.StartsWith("ReconciliationScheduleRole", StringComparison.Ordinal))
            .Select(g => g.Action).Order().ToList();
        Assert.Equal(["ecs:RunTask", "iam:PassRole", "iam:PassRole"], events);
        Assert.Equal("FARGATE", (string)target["EcsParameters"]!["LaunchType"]!);
        Assert.Equal("DISABLED", (string)target["EcsParameters"]!["NetworkConfiguration"]!["AwsVpcConfiguration"]!["AssignPublicIp"]!);

        var task = template.Resources("AWS::ECS::TaskDefinition").Single(t => (string?)t.Resource["Properties"]!["Family"] == "pipeline-reconcile").Resource;
        var container = task["Properties"]!["ContainerDefinitions"]!.AsArray().Single()!;
        Assert.Equal("cli", (string)container["Name"]!);
        Assert.Equal(["reconcile", "--publish", "--aws", "--region"], container["Command"]!.AsArray().Take(4).Select(a => (string)a!));
        Assert.Contains("{\"Ref\":\"RepositoryCli\"}", container["Image"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.True((bool)container["ReadonlyRootFilesystem"]!);

        Assert.Equal(ReadGrants.Order(StringComparer.Ordinal), TemplateReader.Grants(template, "pipeline-reconcile-access"));
        Assert.DoesNotContain(template.Resources("AWS::IAM::Policy"), p => (string?)p.Resource["Properties"]!["PolicyName"] == "pipeline-reconcile-rebuild");
    }

    [Fact]
    public void A_schedule_of_its_own_and_rebuild_are_settings_and_rebuild_adds_only_its_writes_in_a_policy_of_its_own()
    {
        var template = stack.Configuration("no-nat");

        var rule = template.Resources("AWS::Events::Rule").Single().Resource["Properties"]!;
        Assert.Equal("rate(12 hours)", (string)rule["ScheduleExpression"]!);
        // Without NAT gateways the task, like the workers, sits in a public subnet with an address of its own.
        Assert.Equal("ENABLED", (string)rule["Targets"]![0]!["EcsParameters"]!["NetworkConfiguration"]!["AwsVpcConfiguration"]!["AssignPublicIp"]!);
        Assert.Equal(ReadGrants.Order(StringComparer.Ordinal), TemplateReader.Grants(template, "pipeline-reconcile-access"));
        Assert.Equal(
            [
                "dynamodb:BatchGetItem table/pipeline-kpi-contributions", "dynamodb:BatchGetItem table/pipeline-kpi-days",
                "dynamodb:BatchWriteItem table/pipeline-category-kpis", "dynamodb:BatchWriteItem table/pipeline-order-kpis",
                "dynamodb:DescribeTable table/pipeline-category-kpis", "dynamodb:DescribeTable table/pipeline-kpi-contributions",
                "dynamodb:DescribeTable table/pipeline-kpi-days", "dynamodb:DescribeTable table/pipeline-order-kpis",
                "dynamodb:GetItem table/pipeline-kpi-contributions", "dynamodb:GetItem table/pipeline-kpi-days",
                "dynamodb:PutItem table/pipeline-category-kpis", "dynamodb:PutItem table/pipeline-kpi-days",
                "dynamodb:Query table/pipeline-category-kpis/index/by-order-date", "dynamodb:Query table/pipeline-kpi-contributions",
            ],
            TemplateReader.Grants(template, "pipeline-reconcile-rebuild"));
    }

    [Fact]
    public void Off_leaves_the_task_definition_for_one_off_runs_and_no_schedule()
    {
        var template = stack.With("reconcileSchedule=off");

        Assert.Empty(template.Resources("AWS::Events::Rule"));
        Assert.Single(template.Resources("AWS::ECS::TaskDefinition"), t => (string?)t.Resource["Properties"]!["Family"] == "pipeline-reconcile");
        Assert.Throws<ArgumentException>(() => DeploySettings.Parse(["reconcileSchedule=every day"]));
    }
}
