using System.Text.Json.Nodes;

namespace Deploy.Tests;

/// <summary>
/// What becomes of the data: it outlives a stack deletion and a replacement, but not a first create that fails (so the
/// create can be tried again), the tables refuse deletion once the stack stands, and what expires goes by itself.
/// </summary>
[Collection(CdkCollection.Name)]
public sealed class LifecycleTests(SynthesizedStack stack)
{
    [Fact]
    public void The_bucket_the_tables_and_the_dead_letter_queues_are_kept_on_deletion_and_replacement_but_not_after_a_failed_first_create()
    {
        var topology = stack.Topology;
        var deadLetterQueues = topology.Queues.Select(q => q.DeadLetterQueueName).ToHashSet();
        var data = stack.Resources("AWS::S3::Bucket").Concat(stack.Resources("AWS::DynamoDB::Table"))
            .Concat(stack.Resources("AWS::SQS::Queue").Where(q => deadLetterQueues.Contains((string)q.Resource["Properties"]!["QueueName"]!)))
            .ToList();
        var workQueues = stack.Resources("AWS::SQS::Queue").Where(q => !deadLetterQueues.Contains((string)q.Resource["Properties"]!["QueueName"]!)).ToList();

        // The buckets: the pipeline's and the Athena results' (CloudFormation cannot delete a bucket with objects; its lifecycle empties it).
        Assert.Equal(2 + topology.Tables.Count + topology.Queues.Count, data.Count);
        Assert.All(data, d =>
            Assert.Equal(("RetainExceptOnCreate", "Retain"), ((string?)d.Resource["DeletionPolicy"], (string?)d.Resource["UpdateReplacePolicy"])));
        // The work queues hold only messages in flight, which the dead-letter queues and the run records account for.
        Assert.Equal(topology.Queues.Count, workQueues.Count);
        Assert.All(workQueues, q => Assert.Equal("Delete", (string?)q.Resource["DeletionPolicy"]));
    }

    [Fact]
    public void The_tables_deletion_protection_is_a_parameter_on_by_default_that_the_setting_turns_off()
    {
        // One template for both deployments of a first create: without protection, then with it (the deploy command's --parameters).
        foreach (var template in new[] { stack.Configuration("defaults"), stack })
        {
            Assert.All(template.Resources("AWS::DynamoDB::Table"), t => Assert.Equal(
                new JsonObject { ["Ref"] = PipelineStack.TableDeletionProtectionParameter }.ToJsonString(),
                t.Resource["Properties"]!["DeletionProtectionEnabled"]!.ToJsonString()));
            var parameter = template.Json["Parameters"]![PipelineStack.TableDeletionProtectionParameter]!;
            Assert.Equal(("String", """["true","false"]"""), ((string)parameter["Type"]!, parameter["AllowedValues"]!.ToJsonString()));
        }
        Assert.Equal("true", (string?)stack.Configuration("defaults").Json["Parameters"]![PipelineStack.TableDeletionProtectionParameter]!["Default"]);
        Assert.Equal("false", (string?)stack.Json["Parameters"]![PipelineStack.TableDeletionProtectionParameter]!["Default"]); // tableDeletionProtection=false

        Assert.True(DeploySettings.Parse([]).TableDeletionProtection);
        Assert.False(DeploySettings.Parse(["tableDeletionProtection=false"]).TableDeletionProtection);
        var error = Assert.Throws<ArgumentException>(() => DeploySettings.Parse(["tableDeletionProtection=yes"]));
        Assert.Contains("neither true nor false", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_processed_messages_table_lets_dynamodb_delete_items_past_their_expiry_and_no_other_table_expires_anything()
    {
        var topology = stack.Topology;
        var withTtl = stack.Resources("AWS::DynamoDB::Table")
            .Where(t => t.Resource["Properties"]!["TimeToLiveSpecification"] is not null)
            .Select(t => ((string)t.Resource["Properties"]!["TableName"]!, t.Resource["Properties"]!["TimeToLiveSpecification"]!.ToJsonString()));

        var expected = new JsonObject { ["AttributeName"] = EventBus.AwsSqs.IdempotencyStore.ExpiresAtAttribute, ["Enabled"] = true };
        Assert.Equal([(topology.ProcessedMessagesTable.Name, expected.ToJsonString())], withTtl);
    }

    [Fact]
    public void The_buckets_lifecycle_expires_old_versions_aborts_stale_uploads_and_removes_expired_delete_markers()
    {
        var rule = Assert.Single(stack.DataBucket.Resource["Properties"]!["LifecycleConfiguration"]!["Rules"]!.AsArray())!;

        Assert.Equal("Enabled", (string)rule["Status"]!);
        Assert.Equal(30, (int)rule["NoncurrentVersionExpiration"]!["NoncurrentDays"]!);
        Assert.True((bool)rule["ExpiredObjectDeleteMarker"]!);
        Assert.Equal(1, (int)rule["AbortIncompleteMultipartUpload"]!["DaysAfterInitiation"]!);
        Assert.Null(rule["ExpirationInDays"]); // current versions are the data: they never expire
    }
}
