using System.Globalization;

namespace AppHost.Tests;

/// <summary>
/// Nothing of the running app can be reached from the network: every socket that the processes behind its endpoints
/// (DCP's proxies, the emulators, the four services) listen on is bound to a loopback address.
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class ListeningTests(EmulatorAppFixture app)
{
    [Fact]
    public void Every_socket_the_emulators_the_services_and_their_proxies_listen_on_is_bound_to_loopback()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the sockets are read from /proc; the pipeline's machines and containers are Linux
        }
        // Each resource's endpoint is a proxy of DCP's, which started the emulators and the services.
        var endpoints = EmulatorApp.Services.Concat(EmulatorApp.WebApps).Concat(["aws-emulator", "dynamodb-emulator"])
            .Select(r => app.App.GetEndpoint(r, "http").Port).ToHashSet();
        var sockets = ListeningSockets().ToList();
        var proxies = Owners(sockets.Where(s => endpoints.Contains(s.Port)).Select(s => s.Inode).ToHashSet());
        var processes = proxies.SelectMany(Descendants).Distinct().ToList();

        var held = processes.SelectMany(SocketInodes).ToHashSet();
        var theirs = sockets.Where(s => held.Contains(s.Inode)).ToList();

        // The proxies, and each emulator and service on a port of its own.
        Assert.True(theirs.Count(s => endpoints.Contains(s.Port)) >= endpoints.Count && theirs.Select(s => s.Port).Distinct().Count() >= 2 * endpoints.Count,
            $"{theirs.Count} sockets of {processes.Count} processes: {string.Join(", ", theirs.Select(s => s.Address))}");
        Assert.All(theirs, s => Assert.True(s.Loopback, $"{s.Address} is not a loopback address"));
    }

    /// <summary>The processes that hold any of <paramref name="inodes"/>.</summary>
    private static List<int> Owners(HashSet<string> inodes) =>
        [.. Processes().Where(pid => SocketInodes(pid).Any(inodes.Contains))];

    /// <summary>The process and all processes below it.</summary>
    private static List<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var pid in Processes())
        {
            if (TryRead($"/proc/{pid}/stat") is { } stat)
            {
                // pid (comm) state ppid ...: the command may hold spaces and parentheses, so read after the last ')'.
                parents[pid] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
            }
        }
        var found = new List<int> { root };
        for (var i = 0; i < found.Count; i++)
        {
            found.AddRange(parents.Where(p => p.Value == found[i]).Select(p => p.Key));
        }
        return found;
    }

    private static IEnumerable<int> Processes() =>
        Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0).Where(pid => pid > 0);

    private static IEnumerable<string> SocketInodes(int pid)
    {
        var descriptors = $"/proc/{pid}/fd";
        string[] links;
        try
        {
            links = [.. Directory.EnumerateFiles(descriptors).Select(f => new FileInfo(f).LinkTarget ?? "")];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return []; // the process ended meanwhile
        }
        return links.Where(l => l.StartsWith("socket:[", StringComparison.Ordinal)).Select(l => l["socket:[".Length..^1]);
    }

    /// <summary>Every listening TCP socket of this network namespace, IPv4 and IPv6.</summary>
    private static IEnumerable<(string Address, int Port, bool Loopback, string Inode)> ListeningSockets() =>
        new[] { "/proc/net/tcp", "/proc/net/tcp6" }.SelectMany(table => (TryRead(table) ?? "").Split('\n').Skip(1))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length > 9 && fields[3] == "0A") // TCP_LISTEN
            .Select(fields => (fields[1], int.Parse(fields[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                IsLoopback(fields[1].Split(':')[0]), fields[9]));

    /// <summary>127.0.0.0/8 (IPv4 in the kernel's byte order: the first octet is last) or ::1.</summary>
    private static bool IsLoopback(string hex) =>
        hex.Length == 8 ? hex.EndsWith("7F", StringComparison.Ordinal) : hex == "00000000000000000000000001000000";

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
