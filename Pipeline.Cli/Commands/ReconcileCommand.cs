using System.CommandLine;
using Pipeline.Contracts;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline reconcile [--from D1] [--to D2] [--publish]</c>: the KPI tables proved against the archive of the versions in
/// force (<see cref="Reconciliation"/>). Exit 0 and one line when they are equal; otherwise every differing day and figure,
/// a last line that counts them, and exit 1. With <c>--publish</c> the result also goes out as
/// <see cref="ReconciliationFinished"/>, which the Notifier logs (equal) or turns into an alert (not).
/// </summary>
internal sealed class ReconcileCommand : AwsCommand
{
    /// <summary>Lines of the report a published result carries (a message stays far below SNS's 256 KiB).</summary>
    private const int PublishedLines = 20;

    private readonly Option<DateOnly?> _from;
    private readonly Option<DateOnly?> _to;
    private readonly Option<bool> _publish = new("--publish")
    {
        Description = "Also publish the result (ReconciliationFinished) for the Notifier: logged when equal, an alert to people when not.",
    };

    public ReconcileCommand()
        : base("reconcile", "Recompute the KPIs from the archived files of the batches in force and compare them with the KPI tables, exactly.")
    {
        (_from, _to) = Reconciliation.AddRangeOptions(this, "compare");
        Options.Add(_publish);
    }

    protected override async Task<int> RunAsync(ParseResult result, AwsConnection aws, CancellationToken cancellationToken)
    {
        var (from, to) = (result.GetValue(_from), result.GetValue(_to));
        if (Reconciliation.RangeError(from, to) is { } error)
        {
            return Fail(error);
        }
        var report = await new Reconciliation(aws).RunAsync(from, to, cancellationToken);
        var exitCode = report.Print();
        if (result.GetValue(_publish))
        {
            await aws.Bus.PublishAsync(new ReconciliationFinished(Guid.NewGuid().ToString("N"), report.From, report.To, report.Days, report.Batches,
                report.Lines.Count, [.. report.Lines.Take(PublishedLines)], DateTimeOffset.UtcNow), cancellationToken);
        }
        return exitCode;
    }
}
