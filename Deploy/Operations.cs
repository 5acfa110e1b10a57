using Amazon.CDK;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.CloudWatch.Actions;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.SNS;
using Amazon.CDK.AWS.SNS.Subscriptions;
using Constructs;
using Pipeline.Topology;
using Pipeline.Topology.Access;

namespace Deploy;

/// <summary>
/// What tells a person that the pipeline needs one: CloudWatch alarms on every dead-letter queue, on the age of the oldest
/// message of every queue a service consumes, on a worker that should run and runs no task, and on the dashboard's load
/// balancer targets, all sent (into alarm and back to OK) to the operations topic, which the <c>alertEmails</c> addresses
/// receive beside the pipeline's own alerts. Only metrics AWS publishes for free are used (no Container Insights).
/// </summary>
public sealed class Operations : Construct
{
    /// <summary>
    /// Beyond a queue's redrive budget, the time a worker scaled to zero needs to start: SQS's metrics reach the backlog
    /// alarm one to three minutes late, and a Fargate task takes about one more to start.
    /// </summary>
    public static readonly TimeSpan StartAllowance = TimeSpan.FromMinutes(5);

    /// <summary>Minutes a service may run no task before the alarm: ECS replaces a stopped task well within them.</summary>
    public const int NoTaskMinutes = 5;

    /// <summary>Minutes a dashboard target may be unhealthy (or none healthy) before the alarm: a deployment's switch-over fits.</summary>
    public const int UnhealthyTargetMinutes = 3;

    public Operations(PipelineStack stack, DeploySettings settings, PipelineServices services, IReadOnlyList<WorkerService> workers, DashboardService dashboard)
        : base(stack, "Operations")
    {
        _topology = stack.Topology;
        Topic = new Topic(this, "Topic", new TopicProps { TopicName = _topology.OperationsTopicName, DisplayName = $"{settings.StackName} operations" });
        TopicPolicies.RequireTls(Topic);
        Topic.AddToResourcePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "AllowThisAccountsAlarms",
            Principals = [new ServicePrincipal("cloudwatch.amazonaws.com")],
            Actions = ["sns:Publish"],
            Resources = [Topic.TopicArn],
            Conditions = new Dictionary<string, object>
            {
                ["StringEquals"] = new Dictionary<string, object> { ["aws:SourceAccount"] = Amazon.CDK.Aws.ACCOUNT_ID },
                ["ArnLike"] = new Dictionary<string, object>
                {
                    ["aws:SourceArn"] = $"arn:{Amazon.CDK.Aws.PARTITION}:cloudwatch:{Amazon.CDK.Aws.REGION}:{Amazon.CDK.Aws.ACCOUNT_ID}:alarm:*",
                },
            },
        }));
        foreach (var email in settings.AlertEmails)
        {
            Topic.AddSubscription(new EmailSubscription(email));
        }

        foreach (var queue in stack.Topology.Queues)
        {
            Alarm(PipelineStack.Id("DeadLetters", queue.DeadLetterQueueName), $"{queue.DeadLetterQueueName} has dead letters",
                $"A message in {queue.DeadLetterQueueName} could not be handled: `pipeline dlq list` (the services' queues) or the SQS console " +
                "shows why; `pipeline dlq redrive` moves it back once the cause is fixed.",
                stack.QueueOf(queue).DeadLetterQueue!.Queue.MetricApproximateNumberOfMessagesVisible(PerMinute("Maximum")),
                ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, threshold: 1, minutes: 1, TreatMissingData.NOT_BREACHING);
        }

        foreach (var queue in services.All.Concat([services.Dashboard]).SelectMany(s => s.Consumes).Distinct())
        {
            var limit = OldestMessageAgeLimit(queue);
            Alarm(PipelineStack.Id("OldestMessage", queue.Name), $"{queue.Name} has waited over {limit.TotalMinutes:0.#} minutes",
                $"The oldest message in {queue.Name} is older than its redrive budget ({queue.RedriveMaxReceiveCount} receives x " +
                $"{queue.VisibilityTimeout.TotalSeconds:0} s) plus {StartAllowance.TotalMinutes:0} minutes to start a task: nobody is taking it " +
                "(no task, or one that cannot start or keeps failing).",
                stack.QueueOf(queue).MetricApproximateAgeOfOldestMessage(PerMinute("Maximum")),
                ComparisonOperator.GREATER_THAN_THRESHOLD, limit.TotalSeconds, minutes: 2, TreatMissingData.NOT_BREACHING);
        }

        // A Fargate service publishes its CPUUtilization each minute while a task of it runs, and nothing while none does:
        // no data for NoTaskMinutes is no running task (SampleCount, so that a task at 0 % CPU still counts).
        foreach (var worker in workers.Where(w => WorkerService.MinTasks(w.Access, settings) > 0))
        {
            Alarm(PipelineStack.Id("NoTask", worker.Access.Name), $"{worker.Access.Name} runs no task",
                $"The {worker.Access.Name} service should run at least {WorkerService.MinTasks(worker.Access, settings)} task(s) and has run none for " +
                $"{NoTaskMinutes} minutes: its ECS events say why (an image that cannot be pulled, a task that fails its health check).",
                worker.Service.MetricCpuUtilization(PerMinute("SampleCount")),
                ComparisonOperator.LESS_THAN_THRESHOLD, threshold: 1, NoTaskMinutes, TreatMissingData.BREACHING);
        }

        Alarm("DashboardUnhealthyTargets", "dashboard has unhealthy targets",
            $"A dashboard task has failed the load balancer's health check ({DashboardService.HealthCheckPath}) for {UnhealthyTargetMinutes} minutes.",
            dashboard.TargetGroup.Metrics.UnhealthyHostCount(PerMinute("Maximum")),
            ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, threshold: 1, UnhealthyTargetMinutes, TreatMissingData.NOT_BREACHING);
        Alarm("DashboardNoHealthyTarget", "dashboard has no healthy target",
            $"No dashboard task has been healthy behind the load balancer for {UnhealthyTargetMinutes} minutes: the dashboard is down.",
            dashboard.TargetGroup.Metrics.HealthyHostCount(PerMinute("Minimum")),
            ComparisonOperator.LESS_THAN_THRESHOLD, threshold: 1, UnhealthyTargetMinutes, TreatMissingData.BREACHING);

        _ = new CfnOutput(stack, StackOutputNames.OperationsTopicArn, new CfnOutputProps
        {
            Description = "Where the operations alarms go (alertEmails are subscribed)",
            Value = Topic.TopicArn,
        });
    }

    private readonly PipelineTopology _topology;

    public Topic Topic { get; }

    /// <summary>
    /// How old a queue's oldest message may get: by then it has been handled, or received
    /// <see cref="QueueSpec.RedriveMaxReceiveCount"/> times at most and been dead-lettered (each receive that failed or was lost
    /// hides it for at most the visibility timeout; the bus extends that only while a handler is running), unless nothing
    /// consumes the queue; plus the time a worker scaled to zero takes to start.
    /// </summary>
    public static TimeSpan OldestMessageAgeLimit(QueueSpec queue) => queue.VisibilityTimeout * queue.RedriveMaxReceiveCount + StartAllowance;

    private void Alarm(string id, string name, string description, IMetric metric, ComparisonOperator comparison, double threshold, int minutes,
        TreatMissingData missingData)
    {
        var alarm = new Alarm(this, id, new AlarmProps
        {
            AlarmName = _topology.AlarmName(name),
            AlarmDescription = description,
            Metric = metric,
            ComparisonOperator = comparison,
            Threshold = threshold,
            EvaluationPeriods = minutes,
            DatapointsToAlarm = minutes,
            TreatMissingData = missingData,
        });
        alarm.AddAlarmAction(new SnsAction(Topic));
        alarm.AddOkAction(new SnsAction(Topic));
    }

    private static MetricOptions PerMinute(string statistic) => new() { Statistic = statistic, Period = Duration.Minutes(1) };
}
