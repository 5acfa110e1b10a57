using System.Globalization;
using Pipeline.Engine.DataQuality;
using Pipeline.Topology;

namespace Deploy;

/// <summary>
/// Deploy-time settings, given to <c>synth</c> as <c>key=value</c> (see docs/deploy.md). Everything else comes from
/// <see cref="Pipeline.Topology.PipelineTopology"/>.
/// </summary>
public sealed record DeploySettings
{
    public string StackName { get; init; } = "pipeline";

    /// <summary>The bucket's name (S3 names are global); the topology's default when not set.</summary>
    public string? BucketName { get; init; }

    /// <summary>Email addresses subscribed to the alerts topic (each confirms by email).</summary>
    public IReadOnlyList<string> AlertEmails { get; init; } = [];

    public int LogRetentionDays { get; init; } = 30;

    /// <summary>Tasks per worker when idle (0 lets the batch workers scale to zero; the Notifier keeps at least one).</summary>
    public int MinTasks { get; init; } = 1;

    public int MaxTasks { get; init; } = 4;

    /// <summary>Messages waiting or in flight per task: one more task for every this many.</summary>
    public int BacklogPerTask { get; init; } = 2;

    /// <summary>Minutes without any backlog before a worker scales in to <see cref="MinTasks"/>.</summary>
    public int IdleMinutes { get; init; } = 15;

    public int TaskCpu { get; init; } = 512;

    public int TaskMemoryMiB { get; init; } = 1024;

    /// <summary>An existing VPC (with <see cref="SubnetIds"/>, private subnets with a route out); a new one when null.</summary>
    public string? VpcId { get; init; }

    public IReadOnlyList<string> SubnetIds { get; init; } = [];

    /// <summary>
    /// NAT gateways of a new VPC, which spans two zones: 1 (the default) is one gateway that the tasks of both zones share,
    /// 2 is one per zone (a zone's outage does not cut the other zone's tasks off), 0 puts the tasks in public subnets with
    /// public addresses instead. S3 and DynamoDB go through gateway endpoints either way; not used with an existing VPC.
    /// </summary>
    public int NatGateways { get; init; } = 1;

    /// <summary>The zones of a new VPC (and so the most NAT gateways it can use).</summary>
    public const int Zones = 2;

    /// <summary>
    /// Who may reach the dashboard's internal load balancer (a CIDR block, such as the VPN's); the new VPC's own block
    /// when not set. An existing VPC needs it: its block is not known at synthesis.
    /// </summary>
    public string? DashboardAllowedCidr { get; init; }

    /// <summary>
    /// An ACM certificate for the dashboard's load balancer: HTTPS on 443 instead of HTTP on 80, and people sign in
    /// (<see cref="SignIn"/>).
    /// </summary>
    public string? DashboardCertificateArn { get; init; }

    /// <summary>The name people open the dashboard by (the certificate's; a DNS record of yours points it at the load balancer).</summary>
    public string? DashboardDomainName { get; init; }

    /// <summary>How people sign in to the dashboard (see <see cref="Deploy.DashboardSignIn"/>).</summary>
    public DashboardSignInSettings SignIn { get; init; } = new();

    /// <summary>
    /// DynamoDB's deletion protection on the tables: nobody may delete them, CloudFormation included, until it is turned
    /// off. The default of the template's parameter; the deploy command creates a stack without it (a failed create must
    /// delete its tables as it rolls back) and turns it on once the create has succeeded.
    /// </summary>
    public bool TableDeletionProtection { get; init; } = true;

    /// <summary>
    /// The freshness check's deadline (docs/data-quality.md): every day must have an accepted batch by this time, UTC, on
    /// the day after (<c>HH:mm</c>); null (<c>freshnessDeadline=off</c>) turns the check off. Given to the Notifier.
    /// </summary>
    public string? FreshnessDeadline { get; init; } = "06:00";

    /// <summary>How many due days back the freshness check looks.</summary>
    public int FreshnessLookbackDays { get; init; } = 30;

    /// <summary>
    /// The anomaly check's settings (docs/data-quality.md, Anomalies), given to the Notifier: the check's own defaults unless
    /// set; <c>anomalies=off</c> turns it off.
    /// </summary>
    public AnomalySettings Anomalies { get; init; } = new();

    /// <summary>
    /// When the reconciliation task (<c>pipeline reconcile --publish</c>) runs: an EventBridge schedule expression, such as
    /// <c>cron(30 3 * * ? *)</c> (daily at 03:30 UTC, the default) or <c>rate(12 hours)</c>; <c>off</c> for none.
    /// </summary>
    public string? ReconcileSchedule { get; init; } = DefaultReconcileSchedule;

    public const string DefaultReconcileSchedule = "cron(30 3 * * ? *)";

    /// <summary>
    /// Whether the reconciliation task's role may also run <c>pipeline rebuild</c> (the fold's writes to the day states and
    /// the KPI rows), as a one-off task with the command overridden. Off by default: the scheduled task only reads.
    /// </summary>
    public bool ReconcileMayRebuild { get; init; }

    /// <summary>
    /// The most an Athena query in the analysts' workgroup may scan, in GiB: Athena cancels a query when it gets there (and bills
    /// what it scanned, $5 per TB in most regions). The curated Parquet of a day is small; a query over years stays far below.
    /// </summary>
    public int AnalyticsScanCutoffGiB { get; init; } = 10;

    /// <summary>
    /// A folder with the service images as archives (<c>pipeline-&lt;service&gt;.tar</c>), deployed as CDK image assets;
    /// without it the template takes the images as parameters (see <see cref="WorkerImages"/>). Set by the commands, not a key.
    /// </summary>
    public string? ImageArchives { get; init; }

    private static readonly Dictionary<string, Func<DeploySettings, string, DeploySettings>> Keys = new(StringComparer.Ordinal)
    {
        ["stackName"] = (s, v) => s with { StackName = v },
        ["bucketName"] = (s, v) => s with { BucketName = v },
        ["alertEmails"] = (s, v) => s with { AlertEmails = List(v) },
        ["logRetentionDays"] = (s, v) => s with { LogRetentionDays = Retention(Number(v, 1)) },
        ["minTasks"] = (s, v) => s with { MinTasks = Number(v, 0) },
        ["maxTasks"] = (s, v) => s with { MaxTasks = Number(v, 1) },
        ["backlogPerTask"] = (s, v) => s with { BacklogPerTask = Number(v, 1) },
        ["idleMinutes"] = (s, v) => s with { IdleMinutes = Number(v, 1) },
        ["taskCpu"] = (s, v) => s with { TaskCpu = Number(v, 256) },
        ["taskMemoryMiB"] = (s, v) => s with { TaskMemoryMiB = Number(v, 512) },
        ["vpcId"] = (s, v) => s with { VpcId = ResourceId("vpcId", "vpc", v) },
        ["subnetIds"] = (s, v) => s with { SubnetIds = List(v).Select(id => ResourceId("subnetIds", "subnet", id)).ToList() },
        ["natGateways"] = (s, v) => s with { NatGateways = NatGatewayCount(v) },
        ["tableDeletionProtection"] = (s, v) => s with { TableDeletionProtection = Boolean("tableDeletionProtection", v) },
        ["dashboardAllowedCidr"] = (s, v) => s with { DashboardAllowedCidr = Cidr(v) },
        ["dashboardCertificateArn"] = (s, v) => s with
        {
            DashboardCertificateArn = v.StartsWith("arn:", StringComparison.Ordinal)
                ? v
                : throw new ArgumentException($"dashboardCertificateArn: '{v}' is not an ARN (arn:aws:acm:...).")
        },
        ["freshnessDeadline"] = (s, v) => s with { FreshnessDeadline = v == "off" ? null : FreshnessDeadlineOf(v) },
        ["freshnessLookbackDays"] = (s, v) => s with { FreshnessLookbackDays = Number(v, 1) },
        ["anomalies"] = (s, v) => s with
        {
            Anomalies = s.Anomalies with
            {
                Enabled = v switch
                {
                    "on" => true,
                    "off" => false,
                    _ => throw new ArgumentException($"anomalies: '{v}' is neither on nor off."),
                },
            },
        },
        ["anomalyWeeks"] = (s, v) => s with { Anomalies = s.Anomalies with { Weeks = Number(v, 1) } },
        ["anomalyMinimumHistory"] = (s, v) => s with { Anomalies = s.Anomalies with { MinimumHistory = Number(v, 1) } },
        ["anomalyThreshold"] = (s, v) => s with { Anomalies = s.Anomalies with { Threshold = Decimal("anomalyThreshold", v) } },
        ["anomalySpreadFloor"] = (s, v) => s with { Anomalies = s.Anomalies with { SpreadFloor = Decimal("anomalySpreadFloor", v) } },
        ["reconcileSchedule"] = (s, v) => s with { ReconcileSchedule = Schedule(v) },
        ["reconcileMayRebuild"] = (s, v) => s with { ReconcileMayRebuild = Boolean("reconcileMayRebuild", v) },
        ["analyticsScanCutoffGiB"] = (s, v) => s with { AnalyticsScanCutoffGiB = Number(v, 1) },
        ["dashboardDomainName"] = (s, v) => s with { DashboardDomainName = Deploy.DashboardSignIn.DomainName("dashboardDomainName", v) },
    };

    static DeploySettings()
    {
        // The sign-in's own settings are declared beside it (DashboardSignIn.cs).
        foreach (var (key, apply) in DashboardSignInSettings.Keys)
        {
            Keys.Add(key, (s, v) => s with { SignIn = apply(s.SignIn, v) });
        }
    }

    public static IReadOnlyCollection<string> KeyNames => Keys.Keys;

    /// <summary>Reads <c>key=value</c> arguments over the defaults.</summary>
    /// <exception cref="ArgumentException">An unknown key, a malformed value, or settings that contradict each other.</exception>
    public static DeploySettings Parse(IEnumerable<string> arguments)
    {
        var settings = new DeploySettings();
        foreach (var argument in arguments)
        {
            var equals = argument.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !Keys.TryGetValue(argument[..equals], out var apply))
            {
                throw new ArgumentException($"'{argument}' is not a setting; settings are key=value with keys {string.Join(", ", KeyNames)}.");
            }
            settings = apply(settings, argument[(equals + 1)..]);
        }
        return settings.Checked();
    }

    private DeploySettings Checked()
    {
        try
        {
            // The stack's name is the environment, the prefix of every name: it must make names AWS accepts.
            _ = new PipelineTopology(BucketName ?? PipelineTopology.AccountBucketName(StackName, "123456789012", "us-east-1"), StackName);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"stackName names every resource of the stack: {e.Message}", e);
        }
        if (MaxTasks < Math.Max(MinTasks, 1))
        {
            throw new ArgumentException($"maxTasks ({MaxTasks}) must be at least minTasks ({MinTasks}) and at least 1.");
        }
        if ((VpcId is null) != (SubnetIds.Count == 0))
        {
            throw new ArgumentException("An existing VPC needs both vpcId and subnetIds (its private subnets, comma-separated).");
        }
        if (VpcId is not null && DashboardAllowedCidr is null)
        {
            throw new ArgumentException("An existing VPC needs dashboardAllowedCidr: who may reach the dashboard (its VPC's block is not known at synthesis).");
        }
        if (AlertEmails.FirstOrDefault(e => !e.Contains('@', StringComparison.Ordinal)) is { } notEmail)
        {
            throw new ArgumentException($"alertEmails: '{notEmail}' is not an email address.");
        }
        if (Anomalies.Enabled && Anomalies.Options().Problems().ToList() is { Count: > 0 } problems)
        {
            throw new ArgumentException($"The anomaly settings cannot work: {string.Join(" ", problems)}");
        }
        _ = Deploy.DashboardSignIn.ModeOf(this);
        return this;
    }

    /// <summary>
    /// The Notifier's data-quality settings as its environment: the configuration sections <c>Freshness</c>
    /// (Services.Notifier's FreshnessOptions) and <c>Anomalies</c> (<see cref="AnomalyOptions"/>).
    /// </summary>
    public IReadOnlyDictionary<string, string> NotifierEnvironment()
    {
        var environment = FreshnessDeadline is null
            ? new Dictionary<string, string> { ["Freshness__Enabled"] = "false" }
            : new Dictionary<string, string>
            {
                ["Freshness__Enabled"] = "true",
                ["Freshness__Deadline"] = FreshnessDeadline,
                ["Freshness__LookbackDays"] = FreshnessLookbackDays.ToString(CultureInfo.InvariantCulture),
            };
        var anomalies = Anomalies.Options();
        environment[$"{AnomalyOptions.SectionName}__Enabled"] = anomalies.Enabled ? "true" : "false";
        if (anomalies.Enabled)
        {
            environment[$"{AnomalyOptions.SectionName}__Weeks"] = anomalies.Weeks.ToString(CultureInfo.InvariantCulture);
            environment[$"{AnomalyOptions.SectionName}__MinimumHistory"] = anomalies.MinimumHistory.ToString(CultureInfo.InvariantCulture);
            environment[$"{AnomalyOptions.SectionName}__Threshold"] = anomalies.Threshold.ToString(CultureInfo.InvariantCulture);
            environment[$"{AnomalyOptions.SectionName}__SpreadFloor"] = anomalies.SpreadFloor.ToString(CultureInfo.InvariantCulture);
        }
        return environment;
    }

    /// <summary>A time of day as the Notifier reads it (HH:mm), checked here so that a typo fails the synth, not the Notifier's start.</summary>
    private static string FreshnessDeadlineOf(string value) =>
        TimeOnly.TryParseExact(value, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
            ? value
            : throw new ArgumentException(
                $"freshnessDeadline: '{value}' is not a deadline: the time of day, UTC, on the day after, as HH:mm (such as 06:00), or off.");

    /// <summary>The retentions CloudWatch Logs offers.</summary>
    private static readonly int[] RetentionDays = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

    private static int Retention(int days) => RetentionDays.Contains(days)
        ? days
        : throw new ArgumentException($"logRetentionDays: CloudWatch Logs keeps logs {string.Join(", ", RetentionDays)} days, not {days}.");

    /// <summary>An IPv4 block such as 10.0.0.0/16; 0.0.0.0/0 is refused (the dashboard is not for the whole internet).</summary>
    private static string Cidr(string value) =>
        System.Net.IPNetwork.TryParse(value, out var network) && network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? network.PrefixLength > 0
                ? value
                : throw new ArgumentException("dashboardAllowedCidr: 0.0.0.0/0 would let anyone reach the dashboard; name the network that may.")
            : throw new ArgumentException($"dashboardAllowedCidr: '{value}' is not an IPv4 CIDR block (such as 10.20.0.0/16).");

    private static int NatGatewayCount(string value)
    {
        var count = Number(value, 0);
        return count <= Zones
            ? count
            : throw new ArgumentException(
                $"natGateways: the new VPC spans {Zones} zones: 0 (no NAT, public subnets), 1 (one shared) or {Zones} (one per zone), not {count}.");
    }

    /// <summary>An EC2 id as EC2 writes it: <c>vpc-</c> or <c>subnet-</c> and 8 or 17 hexadecimal digits (CloudFormation checks the same).</summary>
    private static string ResourceId(string key, string prefix, string value) =>
        System.Text.RegularExpressions.Regex.IsMatch(value, $"^{prefix}-([0-9a-fA-F]{{8}}|[0-9a-fA-F]{{17}})$")
            ? value
            : throw new ArgumentException(
                $"{key}: '{value}' is not a {prefix} id ({prefix}- and 8 or 17 hexadecimal digits, such as {prefix}-0a1b2c3d4e5f60718).");

    /// <summary>An EventBridge schedule expression (<c>cron(...)</c> with six fields, or <c>rate(n unit)</c>), or <c>off</c> (null).</summary>
    private static string? Schedule(string value) =>
        value == "off" ? null
        : System.Text.RegularExpressions.Regex.IsMatch(value, @"^(cron\((\S+ ){5}\S+\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\))$")
            ? value
            : throw new ArgumentException(
                $"reconcileSchedule: '{value}' is not an EventBridge schedule (cron(30 3 * * ? *), rate(12 hours)) or off.");

    private static bool Boolean(string key, string value) => value switch
    {
        "true" => true,
        "false" => false,
        _ => throw new ArgumentException($"{key}: '{value}' is neither true nor false."),
    };

    private static IReadOnlyList<string> List(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>A number such as 3.5 (a point, no exponent); its range is the setting's own check.</summary>
    private static double Decimal(string key, string value) =>
        double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new ArgumentException($"{key}: '{value}' is not a number such as 3.5.");

    private static int Number(string value, int minimum) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= minimum
            ? number
            : throw new ArgumentException($"'{value}' is not a whole number of at least {minimum}.");
}

/// <summary>The anomaly check's settings in the stack; unset ones are the check's defaults (<see cref="AnomalyOptions"/>).</summary>
public sealed record AnomalySettings
{
    private static readonly AnomalyOptions Defaults = new();

    public bool Enabled { get; init; } = Defaults.Enabled;

    public int Weeks { get; init; } = Defaults.Weeks;

    public int MinimumHistory { get; init; } = Defaults.MinimumHistory;

    public double Threshold { get; init; } = Defaults.Threshold;

    public double SpreadFloor { get; init; } = Defaults.SpreadFloor;

    /// <summary>As the Notifier binds them.</summary>
    public AnomalyOptions Options() =>
        new() { Enabled = Enabled, Weeks = Weeks, MinimumHistory = MinimumHistory, Threshold = Threshold, SpreadFloor = SpreadFloor };
}
