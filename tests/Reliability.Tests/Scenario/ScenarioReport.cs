using System.Globalization;
using System.Text;
using Pipeline.Contracts.Alerts;
using Pipeline.Testing.Aws;

namespace Reliability.Tests.Scenario;

/// <summary>What a run did and found: the figures the suite prints, and every discrepancy (there must be none).</summary>
public sealed record ScenarioReport(
    int Seed,
    int Rounds,
    IReadOnlyList<PlannedVersion> Versions,
    int Kills,
    int UnexpectedExits,
    long Calls,
    IReadOnlyDictionary<FaultKind, long> FaultsByKind,
    IReadOnlyDictionary<AwsService, long> FaultsByService,
    IReadOnlyDictionary<string, long> Duplicates,
    int Poison,
    IReadOnlyList<Alert> Alerts,
    IReadOnlyList<string> Discrepancies,
    TimeSpan Elapsed,
    string RecentServiceLogs)
{
    public override string ToString()
    {
        var text = new StringBuilder();
        var invariant = CultureInfo.InvariantCulture;
        text.AppendLine(invariant, $"seed {Seed} (replay: RELIABILITY_SEED={Seed}): {Rounds} round(s) in {Elapsed.TotalMinutes:F1} min " +
            $"(load average {File.ReadAllText("/proc/loadavg").Trim()})");
        text.AppendLine(invariant, $"batches: {Versions.Select(v => v.Batch).Distinct().Count()} " +
            $"({Versions.Count} versions: {Count(v => v.Alert == ExpectedAlert.Succeeded)} to succeed, " +
            $"{Count(v => v.Alert == ExpectedAlert.Rejected)} to be rejected, {Count(v => v.Alert == ExpectedAlert.Retracted)} retractions, " +
            $"{Count(v => v.Alert == ExpectedAlert.None)} identical re-uploads)");
        text.AppendLine(invariant, $"kills: {Kills} (SIGKILL, then started again); services that ended on their own: {UnexpectedExits}");
        text.Append(invariant, $"injected faults: {FaultsByKind.Values.Sum()} of {Calls} calls through the proxy: ").AppendLine(
            string.Join(", ", Enum.GetValues<FaultKind>().Select(k => $"{k} {FaultsByKind.GetValueOrDefault(k)}")) +
            "; by service: " + string.Join(", ", AwsServices.All.Select(s => $"{s} {FaultsByService.GetValueOrDefault(s)}")));
        text.Append(invariant, $"duplicates: {Duplicates.Values.Sum()} (").AppendLine(
            string.Join(", ", Duplicates.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key} {d.Value}")) + ")");
        text.AppendLine(invariant, $"bad input on the bus: {Poison} messages");
        var repeats = Alerts.Count - Alerts.Select(a => a.AlertId).Distinct().Count();
        text.AppendLine(invariant, $"alerts: {Alerts.Select(a => a.AlertId).Distinct().Count()} distinct, {repeats} repeated with the same alert id");
        text.AppendLine(invariant, $"discrepancies: {Discrepancies.Count}");
        foreach (var discrepancy in Discrepancies)
        {
            text.AppendLine("  - " + discrepancy);
        }
        return text.ToString();
    }

    private int Count(Func<PlannedVersion, bool> predicate) => Versions.Count(predicate);
}
