using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Deploy.Tests;

/// <summary>
/// moto's server (Python's moto 5, preinstalled with cfn-lint on our machines) on a free loopback port: an AWS emulator
/// that answers STS GetCallerIdentity (account 123456789012), SSM GetParameter and CloudFormation DescribeStacks over
/// HTTP, for the deploy command's checks with the real AWS SDK clients and its own Query API client (<c>AWS_ENDPOINT_URL</c>).
/// It creates no ECS task and pushes no image, and its stacks are created at once (CREATE_COMPLETE, never a rollback):
/// the deploy itself cannot be tried here.
/// </summary>
public sealed class MotoServer : IAsyncLifetime
{
    public const string Account = "123456789012";

    private Process? _process;

    public static string? WhyUnavailable { get; } = Find() is null ? "moto_server is not installed (Python's moto; preinstalled on our CI machines)" : null;

    public string Endpoint { get; private set; } = "";

    /// <summary>The environment that points the deploy command's AWS clients at this server, with its fixed credentials.</summary>
    public IReadOnlyDictionary<string, string> Environment(string region) => new Dictionary<string, string>
    {
        ["AWS_ENDPOINT_URL"] = Endpoint,
        ["AWS_ACCESS_KEY_ID"] = "testing",
        ["AWS_SECRET_ACCESS_KEY"] = "testing",
        ["AWS_REGION"] = region,
    };

    /// <summary>Creates a stack (of one queue) named <paramref name="stackName"/>; moto completes it at once.</summary>
    public async Task CreateStackAsync(string stackName, string region)
    {
        var api = Cli.CloudFormationStacks.Api;
        var form = api.Form("CreateStack").Add("StackName", stackName).Add("TemplateBody", """{"Resources":{"Queue":{"Type":"AWS::SQS::Queue"}}}""");
        using var http = new HttpClient(api.CreateSigningHandler(new Amazon.Runtime.BasicAWSCredentials("testing", "testing"), region));
        using var response = await http.PostAsync(new Uri(Endpoint), form.ToContent());
        Aws.Query.QueryProtocol.ReadResult(api, form.Action, response.StatusCode, await response.Content.ReadAsStringAsync(),
            e => new InvalidOperationException($"moto refused CreateStack: {e.Code}: {e.Message}"));
    }

    public async Task InitializeAsync()
    {
        if (WhyUnavailable is not null)
        {
            return;
        }
        var port = FreePort();
        Endpoint = $"http://127.0.0.1:{port}";
        _process = Process.Start(new ProcessStartInfo(Find()!, ["-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var started = Stopwatch.StartNew(); started.Elapsed < TimeSpan.FromSeconds(30) && !_process.HasExited; await Task.Delay(200))
        {
            try
            {
                if ((await http.GetAsync(Endpoint)).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }
        }
        throw new InvalidOperationException($"moto_server did not answer at {Endpoint} within 30 s");
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
        }
        _process?.Dispose();
        return Task.CompletedTask;
    }

    private static string? Find() =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "moto_server")).FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A fact that needs moto's server, and says why it is skipped without it.</summary>
public sealed class MotoFactAttribute : FactAttribute
{
    public MotoFactAttribute()
    {
        if (MotoServer.WhyUnavailable is { } reason)
        {
            Skip = $"Skipped: {reason}.";
        }
    }
}
