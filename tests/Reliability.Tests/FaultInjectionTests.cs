using Reliability.Tests.Scenario;
using Xunit.Abstractions;

namespace Reliability.Tests;

/// <summary>
/// The fault-injection suite: the whole system, run by its real AppHost on the emulators, survives crashes, AWS
/// faults, an emulator outage, duplicates, disorder and bad input together, and ends exact. A failing seed replays with
/// <c>RELIABILITY_SEED</c> (see docs/reliability.md).
/// </summary>
public sealed class FaultInjectionTests(ITestOutputHelper output)
{
    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("RELIABILITY_SEED"), out var seed) ? seed : 20261129;

    [Fact]
    public async Task Twenty_batches_through_kills_aws_faults_an_outage_duplicates_and_bad_input_end_exactly_as_the_engine_says()
    {
        var report = await new FaultScenario(new ScenarioOptions(Seed), output.WriteLine).RunAsync();

        output.WriteLine(report.ToString());
        Assert.True(report.Discrepancies.Count == 0, $"{report}\nThe services' latest logs:\n{report.RecentServiceLogs}");
    }
}
