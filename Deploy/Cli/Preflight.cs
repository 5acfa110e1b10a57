using System.Globalization;
using System.Net.Http;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;

namespace Deploy.Cli;

public enum CheckOutcome
{
    Passed,
    Failed,
    NotChecked,
}

/// <summary>One prerequisite: what was found, or what is missing and how to fix it.</summary>
public sealed record CheckResult(string Name, CheckOutcome Outcome, string Detail, string? Fix = null)
{
    public override string ToString() => Outcome switch
    {
        CheckOutcome.Passed => $"ok       {Name}: {Detail}",
        CheckOutcome.NotChecked => $"skipped  {Name}: {Detail}",
        _ => $"MISSING  {Name}: {Detail}" + (Fix is null ? "" : $"\n           fix: {Fix}"),
    };
}

/// <summary>What the checks found: each result, and the account, region and container engine the next steps use.</summary>
public sealed record PreflightReport(IReadOnlyList<CheckResult> Results, string? Account, string? Region, string? ContainerEngine)
{
    public bool AllPassed => Results.All(r => r.Outcome == CheckOutcome.Passed);

    /// <summary>deploy: the stack's state in CloudFormation, when it could be read (it decides a first create from an update).</summary>
    public StackState? Stack { get; init; }
}

/// <summary>
/// The checks before anything is built or deployed: credentials (STS GetCallerIdentity), a region, the CDK bootstrap in
/// that account and region (its SSM version parameter), the stack's state (CloudFormation DescribeStacks: a first create,
/// an update, or a state to resolve first), a container engine that answers (for the CDK CLI to load and push the
/// images), and Node.js with npm (jsii and the CDK CLI run on it). Each missing one says how to fix it.
/// </summary>
public sealed class Preflight(Workspace workspace, AwsTarget target)
{
    /// <summary>The SSM parameter the CDK bootstrap stack (qualifier hnb659fds, the default) keeps its version in.</summary>
    public const string BootstrapVersionParameter = "/cdk-bootstrap/hnb659fds/version";

    /// <summary>The bootstrap version CDK 2.160's default synthesizer asks for when a stack has assets (requiresBootstrapStackVersion).</summary>
    public const int MinimumBootstrapVersion = 6;

    public const int MinimumNodeMajor = 18;

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(20);

    /// <summary>The checks <c>deploy</c> needs: all of them.</summary>
    public async Task<PreflightReport> ForDeployAsync(string stackName, CancellationToken cancellationToken)
    {
        var (credentials, account) = await CredentialsAsync(cancellationToken);
        var region = Region();
        var bootstrap = await BootstrapAsync(account, region.Outcome == CheckOutcome.Passed, cancellationToken);
        var (stackResult, stack) = await StackAsync(stackName, account, region.Outcome == CheckOutcome.Passed, cancellationToken);
        var (engineResult, engine) = await ContainerEngineAsync(cancellationToken);
        var node = await NodeAsync(cancellationToken);
        return new([credentials, region, bootstrap, stackResult, engineResult, node], account, target.Region, engine) { Stack = stack };
    }

    /// <summary>The checks <c>destroy</c> needs: who, where, and the CDK CLI's Node.js.</summary>
    public async Task<PreflightReport> ForDestroyAsync(CancellationToken cancellationToken)
    {
        var (credentials, account) = await CredentialsAsync(cancellationToken);
        return new([credentials, Region(), await NodeAsync(cancellationToken)], account, target.Region, null);
    }

    private async Task<(CheckResult Result, string? Account)> CredentialsAsync(CancellationToken cancellationToken)
    {
        const string name = "AWS credentials";
        try
        {
            var credentials = target.Credentials();
            // STS answers in every region; without one, ask the global endpoint's region.
            using var sts = new AmazonSecurityTokenServiceClient(credentials, new AmazonSecurityTokenServiceConfig
            {
                RegionEndpoint = target.Region is null ? Amazon.RegionEndpoint.USEast1 : target.Endpoint,
            });
            var identity = await sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), cancellationToken);
            return (new(name, CheckOutcome.Passed, $"{identity.Arn} (account {identity.Account})"), identity.Account);
        }
        catch (AmazonServiceException e)
        {
            return (new(name, CheckOutcome.Failed, $"AWS refused the credentials: {e.ErrorCode}: {e.Message}",
                "renew them (aws sso login --profile NAME, or new access keys) and run again"), null);
        }
        catch (Exception e) when (Unreachable(e) is { } network)
        {
            return (new(name, CheckOutcome.Failed, $"could not reach AWS STS: {network.Message}",
                "check the network (a proxy needs HTTPS_PROXY) and run again"), null);
        }
        catch (AmazonClientException e)
        {
            return (new(name, CheckOutcome.Failed, target.Profile is null ? "none found (environment, profile, SSO, container or instance role)" : e.Message,
                "sign in with a profile that may deploy (aws configure sso, then aws sso login --profile NAME) and pass --profile NAME or set AWS_PROFILE; " +
                "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), null);
        }
    }

    private CheckResult Region() => target.Region is { } region
        ? new("AWS region", CheckOutcome.Passed, region)
        : new("AWS region", CheckOutcome.Failed, "none set", "pass --region eu-west-1 (or set AWS_REGION, or a region in your profile)");

    private async Task<CheckResult> BootstrapAsync(string? account, bool hasRegion, CancellationToken cancellationToken)
    {
        const string name = "CDK bootstrap";
        if (account is null || !hasRegion)
        {
            return new(name, CheckOutcome.NotChecked, $"needs credentials and a region (reads the SSM parameter {BootstrapVersionParameter})");
        }
        var fix = $"bootstrap the account once per region: {BootstrapCommand(account)}";
        try
        {
            using var ssm = new AmazonSimpleSystemsManagementClient(target.Credentials(), target.Endpoint);
            var parameter = await ssm.GetParameterAsync(new GetParameterRequest { Name = BootstrapVersionParameter }, cancellationToken);
            var version = int.TryParse(parameter.Parameter.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
            return version >= MinimumBootstrapVersion
                ? new(name, CheckOutcome.Passed, $"version {version} in aws://{account}/{target.Region}")
                : new(name, CheckOutcome.Failed,
                    $"version {parameter.Parameter.Value} in aws://{account}/{target.Region}, older than the {MinimumBootstrapVersion} image assets need", fix);
        }
        catch (ParameterNotFoundException)
        {
            return new(name, CheckOutcome.Failed, $"aws://{account}/{target.Region} is not bootstrapped (no SSM parameter {BootstrapVersionParameter})", fix);
        }
        catch (AmazonServiceException e)
        {
            return new(name, CheckOutcome.Failed, $"could not read {BootstrapVersionParameter}: {e.ErrorCode}: {e.Message}",
                $"the deploying role needs ssm:GetParameter on it; if the account is not bootstrapped: {BootstrapCommand(account)}");
        }
        catch (Exception e) when (Unreachable(e) is { } network)
        {
            return new(name, CheckOutcome.Failed, $"could not reach AWS SSM: {network.Message}", "check the network and run again");
        }
    }

    private async Task<(CheckResult Result, StackState? State)> StackAsync(
        string stackName, string? account, bool hasRegion, CancellationToken cancellationToken)
    {
        const string name = "CloudFormation stack";
        if (account is null || !hasRegion)
        {
            return (new(name, CheckOutcome.NotChecked, "needs credentials and a region (DescribeStacks tells a first create from an update)"), null);
        }
        try
        {
            using var stacks = CloudFormationStacks.Create(target.Credentials(), target.Region!);
            var state = await stacks.DescribeAsync(stackName, cancellationToken);
            return (state.Check(name, stackName, AwsCommand), state);
        }
        catch (AmazonServiceException e)
        {
            return (new(name, CheckOutcome.Failed, e.Message, "the deploying role needs cloudformation:DescribeStacks"), null);
        }
        catch (Exception e) when (Unreachable(e) is { } network)
        {
            return (new(name, CheckOutcome.Failed, $"could not reach AWS CloudFormation: {network.Message}", "check the network and run again"), null);
        }
    }

    /// <summary>An AWS CLI command for this deployment's region and profile.</summary>
    private string AwsCommand(string command) => $"aws {command} --region {target.Region}" + (target.Profile is { } profile ? $" --profile {profile}" : "");

    /// <summary>The exact bootstrap command, with this deployment's CDK CLI, account, region and profile.</summary>
    private string BootstrapCommand(string account) =>
        new ExternalCommand(workspace.Display(workspace.CdkExecutable), ["bootstrap", $"aws://{account}/{target.Region}", .. target.CdkArguments],
                workspace.RepositoryRoot)
            .ToString() + (File.Exists(workspace.CdkExecutable) ? "" : $" (after npm ci --prefix {workspace.Display(workspace.CdkPackage)})");

    /// <summary>CDK_DOCKER when set (the CDK CLI uses it), else docker, else podman: the first whose <c>info</c> answers.</summary>
    private async Task<(CheckResult Result, string? Engine)> ContainerEngineAsync(CancellationToken cancellationToken)
    {
        const string name = "container engine";
        var chosen = Environment.GetEnvironmentVariable("CDK_DOCKER") is { Length: > 0 } named ? new[] { named } : ["docker", "podman"];
        var tried = new List<string>();
        foreach (var engine in chosen)
        {
            var probe = await new ExternalCommand(engine, ["info"], workspace.RepositoryRoot).CaptureAsync(ProbeTimeout, cancellationToken);
            if (probe is (0, _))
            {
                return (new(name, CheckOutcome.Passed, $"{engine} answers ({engine} info)"), engine);
            }
            tried.Add(probe is null ? $"{engine}: not installed" : $"{engine}: {LastLine(probe.Value.Output)}");
        }
        return (new(name, CheckOutcome.Failed, $"none answers ({string.Join("; ", tried)})",
            "install and start Docker, or install Podman (apt-get install podman); the CDK CLI loads the images into it and pushes them to ECR " +
            "(with Podman the deploy sets CDK_DOCKER=podman)"), null);
    }

    private async Task<CheckResult> NodeAsync(CancellationToken cancellationToken)
    {
        const string name = "Node.js and npm";
        var fix = $"install Node.js {MinimumNodeMajor} or newer with npm (https://nodejs.org, or apt-get install nodejs npm): " +
            "the CDK's jsii and its CLI run on it";
        var node = await new ExternalCommand("node", ["--version"], workspace.RepositoryRoot).CaptureAsync(ProbeTimeout, cancellationToken);
        if (node is not (0, var version))
        {
            return new(name, CheckOutcome.Failed, "node not found", fix);
        }
        if (!int.TryParse(version.TrimStart('v').Split('.')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major) || major < MinimumNodeMajor)
        {
            return new(name, CheckOutcome.Failed, $"node {version} is too old", fix);
        }
        var npm = await new ExternalCommand("npm", ["--version"], workspace.RepositoryRoot).CaptureAsync(ProbeTimeout, cancellationToken);
        if (npm is not (0, var npmVersion))
        {
            return new(name, CheckOutcome.Failed, $"node {version}, but npm not found", fix);
        }
        var cli = File.Exists(workspace.CdkExecutable)
            ? "the CDK CLI is installed"
            : $"the CDK CLI will be installed (npm ci --prefix {workspace.Display(workspace.CdkPackage)})";
        return new(name, CheckOutcome.Passed, $"node {version}, npm {npmVersion}; {cli}");
    }

    private static string LastLine(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output";

    /// <summary>The connection failure (refused, no such host) somewhere inside <paramref name="error"/>, if that is what it is.</summary>
    private static Exception? Unreachable(Exception error)
    {
        for (var inner = error; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException or SocketException or TaskCanceledException)
            {
                return inner;
            }
        }
        return null;
    }
}
