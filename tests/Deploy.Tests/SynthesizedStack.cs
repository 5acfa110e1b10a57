namespace Deploy.Tests;

/// <summary>
/// Every test that touches jsii shares one synthesis, one after the other: jsii is not thread-safe. jsii unpacks its
/// runtime into the temporary folder, so the collection gets its own and deletes it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CdkCollection : ICollectionFixture<SynthesizedStack>
{
    public const string Name = "CDK (jsii is single-threaded)";
}

/// <summary>
/// The stack with settings other than the defaults (so that the tests see them arrive in the template), and the
/// configurations docs/deploy.md offers, each synthesized once when a test first asks for it.
/// </summary>
public sealed class SynthesizedStack : StackTemplate, IDisposable
{
    /// <summary>Settings other than the defaults, so that the tests see them arrive in the template.</summary>
    public static readonly string[] SharedArguments =
    [
        "alertEmails=ops@example.com,data@example.com", "minTasks=0", "maxTasks=3", "backlogPerTask=2", "logRetentionDays=14",
        "tableDeletionProtection=false", "freshnessDeadline=07:30", "freshnessLookbackDays=45", "anomalyThreshold=4.5", "anomalyMinimumHistory=3",
    ];

    /// <summary>
    /// The configurations the docs offer, linted and checked each: the defaults; no NAT gateway and workers that scale to
    /// zero, reconciled twice a day by a task that may also rebuild; an existing VPC with HTTPS for the dashboard, as a second
    /// environment (another stack name) in the same account.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> DocumentedConfigurations = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["defaults"] = [],
        ["no-nat"] = ["natGateways=0", "minTasks=0", "reconcileSchedule=rate(12 hours)", "reconcileMayRebuild=true"],
        ["existing-vpc"] =
        [
            "stackName=pipeline-staging", "vpcId=vpc-0a1b2c3d4e5f60718", "subnetIds=subnet-0a1b2c3d4e5f60718,subnet-08f7e6d5c4b3a2910",
            "dashboardAllowedCidr=10.20.0.0/16", "dashboardCertificateArn=arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "dashboardDomainName=kpis.example.com",
        ],
    };

    private readonly string? _previousTemp;
    private readonly Dictionary<string, StackTemplate> _configurations = new(StringComparer.Ordinal);

    public SynthesizedStack()
        : this(Directory.CreateTempSubdirectory("deploy-tests-jsii-").FullName, Environment.GetEnvironmentVariable("TMPDIR"))
    {
    }

    private SynthesizedStack(string temp, string? previousTemp)
        : base(UseForJsii(temp), SharedArguments)
    {
        TempFolder = temp;
        _previousTemp = previousTemp;
    }

    public string TempFolder { get; }

    /// <summary>One of <see cref="DocumentedConfigurations"/>, synthesized on first use.</summary>
    public StackTemplate Configuration(string name) => With(DocumentedConfigurations[name]);

    /// <summary>The stack synthesized with these settings, once per test run.</summary>
    public StackTemplate With(params string[] arguments)
    {
        var key = string.Join(' ', arguments);
        if (!_configurations.TryGetValue(key, out var template))
        {
            template = _configurations[key] = new StackTemplate(Path.Combine(TempFolder, $"configuration-{_configurations.Count}"), arguments);
        }
        return template;
    }

    public IEnumerable<StackTemplate> Configurations => DocumentedConfigurations.Keys.Select(Configuration);

    /// <summary>jsii unpacks its runtime into TMPDIR: give it <paramref name="temp"/>, and return the cloud assembly's folder in it.</summary>
    private static string UseForJsii(string temp)
    {
        Environment.SetEnvironmentVariable("TMPDIR", temp);
        return Path.Combine(temp, "cdk.out");
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("TMPDIR", _previousTemp);
        try
        {
            Directory.Delete(TempFolder, recursive: true);
        }
        catch (IOException)
        {
            // jsii's node process may still hold a file; the folder is ours alone and small next to the run.
        }
    }
}
