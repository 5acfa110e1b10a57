using System.Text.Json.Nodes;
using Pipeline.Topology;

namespace Deploy.Tests;

/// <summary>
/// The analysts' view of <c>curated/</c> in the template: the Glue table is <see cref="PipelineTopology.CuratedOrderItems"/> (its
/// columns, Parquet, its date partitions by projection), the Athena workgroup enforces its encrypted, expiring results location and
/// the scan cutoff, and the analysts' managed policy reads <c>curated/</c> and nothing else of the bucket.
/// </summary>
[Collection(CdkCollection.Name)]
public sealed class AnalyticsTemplateTests(SynthesizedStack stack)
{
    private const string Bucket = "bucket/pipeline-data-{AWS::AccountId}-{AWS::Region}";

    [Fact]
    public void The_glue_table_is_the_curated_spec_in_parquet_over_curated_with_date_partitions_found_by_projection()
    {
        foreach (var template in new[] { stack.Configuration("defaults"), stack.Configuration("existing-vpc") })
        {
            var topology = template.Topology;
            var spec = PipelineTopology.CuratedOrderItems;
            var location = $"s3://{topology.Bucket.Name}/curated/order_items/";

            var database = Assert.Single(template.Resources("AWS::Glue::Database")).Resource["Properties"]!;
            Assert.Equal(topology.AnalyticsDatabaseName, (string)database["DatabaseInput"]!["Name"]!);
            var table = Assert.Single(template.Resources("AWS::Glue::Table")).Resource["Properties"]!;
            Assert.Equal(topology.AnalyticsDatabaseName, (string)table["DatabaseName"]!);
            var input = table["TableInput"]!;
            Assert.Equal(("order_items", "EXTERNAL_TABLE"), ((string)input["Name"]!, (string)input["TableType"]!));

            var storage = input["StorageDescriptor"]!;
            Assert.Equal(spec.Columns.Select(c => (c.Name, c.Type)), storage["Columns"]!.AsArray().Select(c => ((string)c!["Name"]!, (string)c["Type"]!)));
            Assert.Equal([("order_date", "date")], input["PartitionKeys"]!.AsArray().Select(c => ((string)c!["Name"]!, (string)c["Type"]!)));
            Assert.Equal(location, TemplateReader.Render(template, storage["Location"]!));
            Assert.Equal(
                ("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                 "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"),
                ((string)storage["SerdeInfo"]!["SerializationLibrary"]!, (string)storage["InputFormat"]!, (string)storage["OutputFormat"]!));

            // Partition projection: every day is a partition at its Hive-style folder, so nothing has to add partitions.
            var parameters = input["Parameters"]!.AsObject().ToDictionary(p => p.Key, p => TemplateReader.Render(template, p.Value!));
            Assert.Equal(new Dictionary<string, string>
            {
                ["classification"] = "parquet",
                ["EXTERNAL"] = "TRUE",
                ["projection.enabled"] = "true",
                ["projection.order_date.type"] = "date",
                ["projection.order_date.format"] = "yyyy-MM-dd",
                ["projection.order_date.range"] = "2000-01-01,NOW",
                ["projection.order_date.interval"] = "1",
                ["projection.order_date.interval.unit"] = "DAYS",
                ["storage.location.template"] = location + "order_date=${order_date}/",
            }, parameters);
        }
        Assert.Equal("pipeline_staging", stack.Configuration("existing-vpc").Topology.AnalyticsDatabaseName);
    }

    [Fact]
    public void The_workgroup_enforces_its_results_location_their_encryption_and_the_scan_cutoff_which_is_a_setting()
    {
        var template = stack.Configuration("defaults");
        var results = ResultsBucket(template);

        var workgroup = Assert.Single(template.Resources("AWS::Athena::WorkGroup")).Resource["Properties"]!;
        Assert.Equal("pipeline-analysts", (string)workgroup["Name"]!);
        var configuration = workgroup["WorkGroupConfiguration"]!;
        Assert.True((bool)configuration["EnforceWorkGroupConfiguration"]!);
        Assert.Equal(10L << 30, (long)configuration["BytesScannedCutoffPerQuery"]!);
        // The results bucket by its Ref (CloudFormation names it), which Render writes as bucket/<logical id>.
        Assert.Equal($"s3://bucket/{results.Id}/", TemplateReader.Render(template, configuration["ResultConfiguration"]!["OutputLocation"]!));
        Assert.Equal("SSE_S3", (string)configuration["ResultConfiguration"]!["EncryptionConfiguration"]!["EncryptionOption"]!);

        Assert.Equal(50L << 30, (long)stack.With("analyticsScanCutoffGiB=50").Resources("AWS::Athena::WorkGroup").Single()
            .Resource["Properties"]!["WorkGroupConfiguration"]!["BytesScannedCutoffPerQuery"]!);
        Assert.Throws<ArgumentException>(() => DeploySettings.Parse(["analyticsScanCutoffGiB=0"]));

        // The results bucket: private, encrypted, TLS only, and results expire.
        var bucket = results.Resource["Properties"]!;
        Assert.Equal("""{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}""",
            bucket["PublicAccessBlockConfiguration"]!.ToJsonString());
        var encryption = bucket["BucketEncryption"]!["ServerSideEncryptionConfiguration"]![0]!;
        Assert.Equal("AES256", (string)encryption["ServerSideEncryptionByDefault"]!["SSEAlgorithm"]!);
        Assert.Equal("Enabled", (string)bucket["VersioningConfiguration"]!["Status"]!);
        var rules = bucket["LifecycleConfiguration"]!["Rules"]!.AsArray();
        Assert.Equal((Analytics.ResultsDays, 1), ((int)rules[0]!["ExpirationInDays"]!, (int)rules[0]!["NoncurrentVersionExpiration"]!["NoncurrentDays"]!));
        Assert.True((bool)rules[1]!["ExpiredObjectDeleteMarker"]!); // so that an unused bucket ends up empty
        var tlsOnly = template.Resources("AWS::S3::BucketPolicy")
            .Single(p => TemplateReader.Render(template, p.Resource["Properties"]!["Bucket"]!) == $"bucket/{results.Id}").Resource["Properties"]!;
        Assert.Contains(tlsOnly["PolicyDocument"]!["Statement"]!.AsArray(), s => (string?)s!["Effect"] == "Deny"
            && s["Condition"]!["Bool"]!["aws:SecureTransport"]!.GetValue<string>() == "false");
    }

    [Fact]
    public void The_analysts_policy_reads_curated_only_the_curated_catalog_and_queries_only_in_the_workgroup()
    {
        var template = stack.Configuration("defaults");
        var results = $"bucket/{ResultsBucket(template).Id}";
        string[] catalog = ["catalog", "database/pipeline", "table/pipeline/order_items"];
        string[] glue = ["glue:BatchGetPartition", "glue:GetDatabase", "glue:GetPartition", "glue:GetPartitions", "glue:GetTable", "glue:GetTables"];
        string[] athena =
        [
            "athena:BatchGetQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:GetQueryRuntimeStatistics",
            "athena:GetWorkGroup", "athena:ListQueryExecutions", "athena:StartQueryExecution", "athena:StopQueryExecution",
        ];

        Assert.Equal(
            new[]
            {
                $"s3:GetObject {Bucket}/curated/*", $"s3:ListBucket {Bucket}", $"s3:GetBucketLocation {Bucket}", $"s3:GetBucketLocation {results}",
                $"s3:ListBucket {results}", $"s3:ListBucketMultipartUploads {results}", $"s3:AbortMultipartUpload {results}/*",
                $"s3:GetObject {results}/*", $"s3:ListMultipartUploadParts {results}/*", $"s3:PutObject {results}/*",
            }
            .Concat(glue.SelectMany(action => catalog.Select(resource => $"{action} {Arn("glue", resource)}")))
            .Concat(athena.Select(action => $"{action} {Arn("athena", "workgroup/pipeline-analysts")}"))
            .Order(StringComparer.Ordinal),
            TemplateReader.Grants(template, "pipeline-analysts-read"));

        // Listing the bucket is limited to curated/: the keys of data/, processed/, errors/ ... stay hidden, not only their contents.
        var statements = TemplateReader.Statements(template, "pipeline-analysts-read");
        var list = Assert.Single(statements, s => s!["Condition"] is not null)!;
        Assert.Equal(("s3:ListBucket", Bucket), ((string)list["Action"]!, TemplateReader.Render(template, list["Resource"]!)));
        Assert.Equal("""{"StringLike":{"s3:prefix":["curated/*"]}}""", list["Condition"]!.ToJsonString());
        Assert.All(statements, s => Assert.Equal("Allow", (string)s!["Effect"]!));

        // Analysts attach it by the output.
        Assert.Equal(
            template.Resources("AWS::IAM::ManagedPolicy").Single().Id,
            (string)template.Json["Outputs"]![StackOutputNames.AnalystsPolicyArn]!["Value"]!["Ref"]!);
    }

    [Fact]
    public void The_analysts_policy_in_docs_security_md_is_the_templates()
    {
        TemplateTests.AssertSecurityDocSection("analysts' policy", $"\n{TemplateTests.AccessTable(stack, stack.Topology.AnalystsPolicyName)}\n");
    }

    /// <summary>An ARN of the stack's account and region as <see cref="TemplateReader.Render"/> writes it.</summary>
    private static string Arn(string service, string resource) => $"arn:{{AWS::Partition}}:{service}:{{AWS::Region}}:{{AWS::AccountId}}:{resource}";

    private static (string Id, JsonObject Resource) ResultsBucket(StackTemplate template) =>
        template.Resources("AWS::S3::Bucket").Single(b => b.Id != template.DataBucket.Id);
}
