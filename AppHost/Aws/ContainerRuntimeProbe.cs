using System.Diagnostics;

namespace AppHost.Aws;

/// <summary>Asks the container engine Aspire would use whether it answers, and whether it has (or can pull) an image.</summary>
internal static class ContainerRuntimeProbe
{
    /// <summary>Aspire's own setting (also an environment variable): <c>docker</c> when absent, or <c>podman</c>.</summary>
    public const string RuntimeKey = "ASPIRE_CONTAINER_RUNTIME";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>A pull that has not failed by then is slow, not refused: the image is reachable.</summary>
    private static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(10);

    public static bool IsAvailable(string? runtime) => Succeeds(runtime, ["info", "--format", "{{.ServerVersion}}"], Timeout);

    /// <summary>Whether the engine has <paramref name="image"/> or can pull it (pulling it now, as starting it would).</summary>
    public static bool CanRun(string? runtime, string image) =>
        Succeeds(runtime, ["image", "inspect", image], Timeout) || Succeeds(runtime, ["pull", image], PullTimeout);

    private static bool Succeeds(string? runtime, string[] arguments, TimeSpan timeout)
    {
        runtime = string.IsNullOrWhiteSpace(runtime) ? "docker" : runtime;
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // the client is not installed
        }
    }
}
