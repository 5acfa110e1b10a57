using System.Net.Sockets;

namespace Deploy.Tests;

/// <summary>
/// The container engine the image tests use: Docker's API on a Unix socket (podman's <c>podman system service</c>, or
/// Docker), with the service images and the command's already in its storage (<c>.ci/containers.sh</c> publishes them).
/// </summary>
public static class ContainerEngine
{
    public const string PodmanSocket = "/run/podman/podman.sock";

    public static readonly string[] Services = ["validate", "transform", "compute", "notifier", "dashboard"];

    /// <summary>The <c>pipeline</c> command's image, which the reconciliation task runs to its end (no service: nothing stays up).</summary>
    public const string Command = ReconciliationTask.CliImage;

    /// <summary>
    /// The tag <c>.ci/containers.sh</c> gives the images it publishes into podman (the projects' own tag,
    /// <c>&lt;version&gt;-&lt;commit&gt;</c>, changes with every commit; the tests need one they can name).
    /// </summary>
    public const string LocalTag = "local";

    /// <summary>The image a test runs: what <c>.ci/containers.sh</c> publishes into the engine's storage (podman names it localhost/).</summary>
    public static string Image(string service) => $"localhost/{WorkerImages.ImageName(service)}:{LocalTag}";

    /// <summary>The socket in DOCKER_HOST, else podman's, else Docker's.</summary>
    public static string SocketPath =>
        Environment.GetEnvironmentVariable("DOCKER_HOST") is { } host && host.StartsWith("unix://", StringComparison.Ordinal)
            ? host["unix://".Length..]
            : File.Exists(PodmanSocket) ? PodmanSocket : "/var/run/docker.sock";

    private static readonly Lazy<string?> Unavailable = new(FindReasonUnavailable);

    /// <summary>Why the image tests cannot run here, or null when they can.</summary>
    public static string? WhyUnavailable => Unavailable.Value;

    /// <summary>Points Testcontainers at the engine; its Ryuk helper image cannot be pulled here, and each test removes its containers.</summary>
    public static void Configure()
    {
        Environment.SetEnvironmentVariable("DOCKER_HOST", $"unix://{SocketPath}");
        Environment.SetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED", "true");
    }

    private static string? FindReasonUnavailable()
    {
        if (!File.Exists(SocketPath))
        {
            return $"no container engine: no socket at {SocketPath} (set DOCKER_HOST, or run .ci/containers.sh to start podman's)";
        }
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        })
        { BaseAddress = new Uri("http://engine"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            if (!http.GetAsync("/_ping").GetAwaiter().GetResult().IsSuccessStatusCode)
            {
                return $"the container engine at {SocketPath} does not answer /_ping";
            }
            var missing = Services.Append(Command)
                .Where(s => !http.GetAsync($"/images/{Uri.EscapeDataString(Image(s))}/json").GetAwaiter().GetResult().IsSuccessStatusCode)
                .ToList();
            return missing.Count == 0 ? null : $"the images {string.Join(", ", missing.Select(Image))} are not in the container engine (run .ci/containers.sh)";
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException)
        {
            return $"the container engine at {SocketPath} does not answer: {e.Message}";
        }
    }
}

/// <summary>A fact that needs the container engine and the service images, and says why it is skipped without them.</summary>
public sealed class ContainerFactAttribute : FactAttribute
{
    public ContainerFactAttribute()
    {
        if (ContainerEngine.WhyUnavailable is { } reason)
        {
            Skip = $"Image tests skipped: {reason}.";
        }
    }
}
