namespace Pipeline.Contracts;

/// <summary>
/// A reconciliation (<c>pipeline reconcile --publish</c>, the stack's scheduled task) compared the KPI tables with the
/// engine's recomputation from the archive of the versions in force. The Notifier logs an equal one and alerts people
/// about one that is not (docs/data-quality.md, "Reconciliation").
/// </summary>
/// <param name="RunId">The reconciliation's own id: its alert is sent once however often the message is delivered.</param>
/// <param name="From">The first day compared (inclusive); null when no day had data.</param>
/// <param name="To">The last day compared (inclusive).</param>
/// <param name="Days">Days compared.</param>
/// <param name="Batches">Versions in force read from the archive.</param>
/// <param name="Differences">How many figures (or rows) differ, and how many versions could not be verified, together.</param>
/// <param name="FirstDifferences">The first lines of the report (at most 20), each naming the day and the figure.</param>
public sealed record ReconciliationFinished(
    string RunId,
    DateOnly? From,
    DateOnly? To,
    int Days,
    int Batches,
    int Differences,
    IReadOnlyList<string> FirstDifferences,
    DateTimeOffset FinishedAt)
{
    public bool Equal => Differences == 0;
}
