using Amazon.CDK;
using Amazon.CDK.AWS.Athena;
using Amazon.CDK.AWS.Glue;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.S3;
using Constructs;
using Pipeline.Topology;

namespace Deploy;

/// <summary>
/// The analysts' view of <c>curated/</c> (docs/analytics.md): a Glue database with the table of
/// <see cref="PipelineTopology.CuratedOrderItems"/> (its columns, Parquet, partitions by date found by partition projection, so no
/// crawler), an Athena workgroup that enforces where its results go (a bucket of their own, SSE-S3, expiring) and how much a query
/// may scan, and the managed policy <see cref="PipelineTopology.AnalystsPolicyName"/> that lets its holder query them and read
/// nothing of the bucket but <c>curated/</c>.
/// </summary>
public sealed class Analytics : Construct
{
    /// <summary>How long query results are kept: they are downloads, and every query can be run again.</summary>
    public const int ResultsDays = 30;

    /// <summary>Where Athena looks for the partitions: every day from this one to today (a query's date filter narrows it).</summary>
    public const string PartitionRange = "2000-01-01,NOW";

    /// <summary>Glue's names for Parquet (what Athena's own CREATE TABLE ... STORED AS PARQUET writes).</summary>
    public const string ParquetSerDe = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";
    public const string ParquetInputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
    public const string ParquetOutputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";

    public Analytics(PipelineStack stack, DeploySettings settings)
        : base(stack, "Analytics")
    {
        var topology = stack.Topology;
        var table = PipelineTopology.CuratedOrderItems;

        Database = new CfnDatabase(this, "Database", new CfnDatabaseProps
        {
            CatalogId = Amazon.CDK.Aws.ACCOUNT_ID,
            DatabaseInput = new CfnDatabase.DatabaseInputProperty
            {
                Name = topology.AnalyticsDatabaseName,
                Description = $"The curated tables of the pipeline {topology.Environment} (s3://{topology.Bucket.Name}/{BucketSpec.CuratedPrefix})",
            },
        });
        Table = AddTable(topology, table);
        Table.AddDependency(Database);

        ResultsBucket = new Bucket(this, "Results", new BucketProps
        {
            BlockPublicAccess = BlockPublicAccess.BLOCK_ALL,
            // SSE-S3: the data bucket's AWS-managed KMS key has no ARN the template could give Athena (see docs/analytics.md).
            Encryption = BucketEncryption.S3_MANAGED,
            EnforceSSL = true,
            // Versioned like the data bucket (Control Tower's rules); old versions go a day after a result is overwritten or expires.
            Versioned = true,
            ObjectOwnership = ObjectOwnership.BUCKET_OWNER_ENFORCED,
            // Kept on deletion like the data: CloudFormation cannot delete a bucket with objects in it; the lifecycle empties it.
            RemovalPolicy = PipelineStack.KeptData,
            LifecycleRules =
            [
                new LifecycleRule
                {
                    Expiration = Duration.Days(ResultsDays),
                    NoncurrentVersionExpiration = Duration.Days(1),
                    AbortIncompleteMultipartUploadAfter = Duration.Days(1),
                },
                // The delete markers that expiry leaves, once no version is under them (S3 takes this in a rule of its own).
                new LifecycleRule { ExpiredObjectDeleteMarker = true },
            ],
        });

        Workgroup = new CfnWorkGroup(this, "Workgroup", new CfnWorkGroupProps
        {
            Name = topology.AnalyticsWorkgroupName,
            Description = $"Analysts' queries over the curated tables of {topology.AnalyticsDatabaseName} (docs/analytics.md)",
            State = "ENABLED",
            // The workgroup holds only saved queries and history; without this, a saved query would make delete-stack fail.
            RecursiveDeleteOption = true,
            WorkGroupConfiguration = new CfnWorkGroup.WorkGroupConfigurationProperty
            {
                // Queries cannot choose another results location, another encryption, or a larger scan.
                EnforceWorkGroupConfiguration = true,
                PublishCloudWatchMetricsEnabled = true,
                BytesScannedCutoffPerQuery = settings.AnalyticsScanCutoffGiB * (double)(1L << 30),
                ResultConfiguration = new CfnWorkGroup.ResultConfigurationProperty
                {
                    OutputLocation = $"s3://{ResultsBucket.BucketName}/",
                    ExpectedBucketOwner = Amazon.CDK.Aws.ACCOUNT_ID,
                    EncryptionConfiguration = new CfnWorkGroup.EncryptionConfigurationProperty { EncryptionOption = "SSE_S3" },
                },
            },
        });

        AnalystsPolicy = new ManagedPolicy(this, "AnalystsPolicy", new ManagedPolicyProps
        {
            ManagedPolicyName = topology.AnalystsPolicyName,
            Description = $"Query {topology.AnalyticsDatabaseName} in the Athena workgroup {topology.AnalyticsWorkgroupName}: " +
                "reads curated/ and nothing else of the bucket (docs/analytics.md)",
            Statements = AnalystsStatements(stack, table),
        });

        _ = new CfnOutput(stack, StackOutputNames.AnalyticsWorkgroup, new CfnOutputProps
        {
            Value = Workgroup.Name,
            Description = $"The Athena workgroup of the curated tables (database {topology.AnalyticsDatabaseName}; docs/analytics.md)",
        });
        _ = new CfnOutput(stack, StackOutputNames.AnalystsPolicyArn, new CfnOutputProps
        {
            Value = AnalystsPolicy.ManagedPolicyArn,
            Description = "Attach to the analysts' role or group: queries the curated tables, reads nothing else",
        });
    }

    public CfnDatabase Database { get; }

    public CfnTable Table { get; }

    public Bucket ResultsBucket { get; }

    public CfnWorkGroup Workgroup { get; }

    public ManagedPolicy AnalystsPolicy { get; }

    /// <summary>
    /// The Glue table of <paramref name="spec"/>: its columns in the files, its partition column (a date) only in the path, and
    /// partition projection, which makes every day of <see cref="PartitionRange"/> a partition at its Hive-style folder, so that
    /// no crawler or <c>MSCK REPAIR</c> is needed when Compute writes a new day.
    /// </summary>
    private CfnTable AddTable(PipelineTopology topology, CuratedTableSpec spec)
    {
        var location = $"s3://{topology.Bucket.Name}/{spec.Prefix}";
        var partition = spec.PartitionColumn;
        return new CfnTable(this, PipelineStack.Id("Table", spec.Name), new CfnTableProps
        {
            CatalogId = Amazon.CDK.Aws.ACCOUNT_ID,
            DatabaseName = topology.AnalyticsDatabaseName,
            TableInput = new CfnTable.TableInputProperty
            {
                Name = spec.Name,
                Description = $"One Parquet object per {partition} and batch, the versions in force " +
                    $"(Pipeline.Topology's {nameof(PipelineTopology.CuratedOrderItems)})",
                TableType = "EXTERNAL_TABLE",
                Parameters = new Dictionary<string, object>
                {
                    ["classification"] = "parquet",
                    ["EXTERNAL"] = "TRUE",
                    ["projection.enabled"] = "true",
                    [$"projection.{partition}.type"] = "date",
                    [$"projection.{partition}.format"] = "yyyy-MM-dd",
                    [$"projection.{partition}.range"] = PartitionRange,
                    [$"projection.{partition}.interval"] = "1",
                    [$"projection.{partition}.interval.unit"] = "DAYS",
                    ["storage.location.template"] = $"{location}{partition}=${{{partition}}}/",
                },
                PartitionKeys = new[] { new CfnTable.ColumnProperty { Name = partition, Type = "date" } },
                StorageDescriptor = new CfnTable.StorageDescriptorProperty
                {
                    Location = location,
                    InputFormat = ParquetInputFormat,
                    OutputFormat = ParquetOutputFormat,
                    SerdeInfo = new CfnTable.SerdeInfoProperty
                    {
                        SerializationLibrary = ParquetSerDe,
                        Parameters = new Dictionary<string, object> { ["serialization.format"] = "1" },
                    },
                    Columns = spec.Columns.Select(c => new CfnTable.ColumnProperty { Name = c.Name, Type = c.Type }).ToArray(),
                },
            },
        });
    }

    /// <summary>
    /// What an analyst needs to query the curated tables in the workgroup, on exactly those resources: the data bucket's
    /// <c>curated/</c> (listing limited to it by <c>s3:prefix</c>), the database and its table in the account's catalog, the
    /// workgroup, and the results bucket. No KMS grant: the data bucket's AWS-managed key lets every principal of the account
    /// decrypt through S3, and results are SSE-S3.
    /// </summary>
    private PolicyStatement[] AnalystsStatements(PipelineStack stack, CuratedTableSpec spec)
    {
        var topology = stack.Topology;
        var database = topology.AnalyticsDatabaseName;
        var glue = Arn("glue");
        return
        [
            new(new PolicyStatementProps
            {
                Sid = "ReadCurated",
                Actions = ["s3:GetObject"],
                Resources = [stack.Bucket.ArnForObjects(BucketSpec.CuratedPrefix + "*")],
            }),
            new(new PolicyStatementProps
            {
                Sid = "ListCuratedOnly",
                Actions = ["s3:ListBucket"],
                Resources = [stack.Bucket.BucketArn],
                Conditions = new Dictionary<string, object>
                {
                    ["StringLike"] = new Dictionary<string, object> { ["s3:prefix"] = new[] { BucketSpec.CuratedPrefix + "*" } },
                },
            }),
            new(new PolicyStatementProps
            {
                // Athena asks for the region of a table's bucket and of its results' bucket; it names no key.
                Sid = "LocateTheBuckets",
                Actions = ["s3:GetBucketLocation"],
                Resources = [stack.Bucket.BucketArn, ResultsBucket.BucketArn],
            }),
            new(new PolicyStatementProps
            {
                Sid = "ReadTheCatalogOfTheCuratedTables",
                Actions = ["glue:BatchGetPartition", "glue:GetDatabase", "glue:GetPartition", "glue:GetPartitions", "glue:GetTable", "glue:GetTables"],
                Resources = [$"{glue}:catalog", $"{glue}:database/{database}", $"{glue}:table/{database}/{spec.Name}"],
            }),
            new(new PolicyStatementProps
            {
                Sid = "QueryInTheWorkgroup",
                Actions =
                [
                    "athena:BatchGetQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:GetQueryRuntimeStatistics",
                    "athena:GetWorkGroup", "athena:ListQueryExecutions", "athena:StartQueryExecution", "athena:StopQueryExecution",
                ],
                Resources = [$"{Arn("athena")}:workgroup/{topology.AnalyticsWorkgroupName}"],
            }),
            new(new PolicyStatementProps
            {
                Sid = "ListResults",
                Actions = ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
                Resources = [ResultsBucket.BucketArn],
            }),
            new(new PolicyStatementProps
            {
                // Athena writes a query's results, and reads them back, with the caller's own permissions.
                Sid = "WriteAndReadResults",
                Actions = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"],
                Resources = [ResultsBucket.ArnForObjects("*")],
            }),
        ];
    }

    /// <summary>The beginning of a <paramref name="service"/> ARN in the stack's account and region.</summary>
    private static string Arn(string service) => $"arn:{Amazon.CDK.Aws.PARTITION}:{service}:{Amazon.CDK.Aws.REGION}:{Amazon.CDK.Aws.ACCOUNT_ID}";
}
