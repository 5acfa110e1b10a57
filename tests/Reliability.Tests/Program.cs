using System.Globalization;
using Reliability.Tests.Scenario;

namespace Reliability.Tests;

/// <summary>
/// The soak variant of the fault-injection suite, as a command:
/// <c>dotnet run -c Release --project tests/Reliability.Tests -- soak [--minutes 60] [--seed N]</c>. Rounds of batches
/// go through the system for that long under kills, AWS faults, an outage every ten minutes, duplicates and bad
/// input; then the same checks as the suite. Prints the figures; exits 0 when nothing is off, 1 otherwise.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] != "soak" || args.Length % 2 == 0)
        {
            await Console.Error.WriteLineAsync("usage: Reliability.Tests soak [--minutes 60] [--seed N]");
            return 2;
        }
        var settings = Enumerable.Range(0, (args.Length - 1) / 2).ToDictionary(i => args[1 + 2 * i], i => args[2 + 2 * i]);
        var minutes = double.Parse(settings.GetValueOrDefault("--minutes", "60"), CultureInfo.InvariantCulture);
        var seed = int.Parse(settings.GetValueOrDefault("--seed", Environment.TickCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        var report = await new FaultScenario(new ScenarioOptions(seed, TimeSpan.FromMinutes(minutes)),
            line => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}")).RunAsync();
        Console.WriteLine(report);
        if (report.Discrepancies.Count > 0)
        {
            Console.WriteLine("The services' latest logs:");
            Console.WriteLine(report.RecentServiceLogs);
        }
        return report.Discrepancies.Count == 0 ? 0 : 1;
    }
}
