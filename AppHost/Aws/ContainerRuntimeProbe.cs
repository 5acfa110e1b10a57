using System.Diagnostics;

namespace AppHost.Aws;

/// <summary>Asks the container engine Aspire would use whether it answers.</summary>
internal static class ContainerRuntimeProbe
{
    /// <summary>Aspire's own setting (also an environment variable): <c>docker</c> when absent, or <c>podman</c>.</summary>
    public const string RuntimeKey = "ASPIRE_CONTAINER_RUNTIME";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static bool IsAvailable(string? runtime)
    {
        runtime = string.IsNullOrWhiteSpace(runtime) ? "docker" : runtime;
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, ["info", "--format", "{{.ServerVersion}}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }
            if (!process.WaitForExit(Timeout))
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
