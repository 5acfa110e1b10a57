namespace Microsoft.Extensions.Hosting;

/// <summary>
/// <c>&lt;service&gt; --health-check</c>: asks the running service's own <c>/alive</c> and exits 0 when healthy, 1
/// otherwise. The container health check of the images, which have no shell and no curl. Liveness, not readiness: a task
/// is healthy once it has been ready since start-up, and an AWS outage afterwards does not make ECS replace it
/// (<see cref="StartupGate"/>).
/// </summary>
public static class HealthProbe
{
    public const string Argument = "--health-check";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(4);

    /// <summary>Probes and exits when <paramref name="args"/> ask for it; otherwise returns and the service starts.</summary>
    public static void ExitIfRequested(string[] args)
    {
        if (args is [Argument])
        {
            Environment.Exit(Probe(Port()));
        }
    }

    /// <summary>The exit code of the health check: 0 when the service on <paramref name="port"/> is alive, 1 otherwise.</summary>
    public static int Probe(int port)
    {
        using var http = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = http.Send(new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}{Extensions.AlivenessEndpointPath}"));
            Console.WriteLine($"{Extensions.AlivenessEndpointPath}: {(int)response.StatusCode} {response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Console.WriteLine($"{Extensions.AlivenessEndpointPath}: {e.Message}");
            return 1;
        }
    }

    /// <summary>The first of ASP.NET Core's <c>ASPNETCORE_HTTP_PORTS</c> (how the images set the port), else 8080.</summary>
    private static int Port() =>
        Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS")?.Split([';', ','], StringSplitOptions.RemoveEmptyEntries) is [var first, ..]
        && int.TryParse(first, System.Globalization.CultureInfo.InvariantCulture, out var port)
            ? port
            : 8080;
}
