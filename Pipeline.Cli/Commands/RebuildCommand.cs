using System.CommandLine;
using Pipeline.Storage.Kpis;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline rebuild [--from D1] [--to D2]</c>: rewrites the KPI of those days through the fold's own writes, then proves
/// them against the archive. (1) Every version in force with data on those days is folded again
/// (<see cref="DynamoKpiStore.FoldAsync"/>: a state item behind the batch's newest version is brought to it by the fold's
/// conditional writes; one that has it is left alone). (2) Every day's rows are written again from its state items by the
/// fold's last step (<see cref="DynamoKpiStore.RewriteRowsAsync"/>: write, read the state back, write again while it
/// changed). (3) <c>reconcile</c> over the same days. Safe while batches arrive and idempotent (docs/data-quality.md).
/// </summary>
internal sealed class RebuildCommand : AwsCommand
{
    private readonly Option<DateOnly?> _from;
    private readonly Option<DateOnly?> _to;

    public RebuildCommand()
        : base("rebuild", "Rewrite the KPI rows of some days through the fold, from the batches in force, then reconcile them with the archive.")
    {
        (_from, _to) = Reconciliation.AddRangeOptions(this, "rebuild");
    }

    protected override async Task<int> RunAsync(ParseResult result, AwsConnection aws, CancellationToken cancellationToken)
    {
        var (from, to) = (result.GetValue(_from), result.GetValue(_to));
        if (Reconciliation.RangeError(from, to) is { } error)
        {
            return Fail(error);
        }
        var (first, last) = (from ?? DateOnly.MinValue, to ?? DateOnly.MaxValue);
        var reconciliation = new Reconciliation(aws);
        var store = new DynamoKpiStore(aws.DynamoDb, aws.Topology, TimeProvider.System);
        var kpis = new KpiQueries(aws.DynamoDb, aws.Topology);

        var (versions, _) = await reconciliation.FindAsync(first, last, cancellationToken);
        var days = new SortedSet<DateOnly>((await kpis.ListDaysAsync(cancellationToken)).Where(d => d >= first && d <= last));
        foreach (var version in versions)
        {
            if (await store.FoldAsync(version.BatchId, cancellationToken) is { } fold)
            {
                days.UnionWith(fold.Days.Where(d => d >= first && d <= last));
            }
        }
        var (orderRows, categoryRows, strayRows) = await store.RewriteRowsAsync(days, cancellationToken);
        Console.Error.WriteLine($"pipeline rebuild: {versions.Count} batches in force folded again; {orderRows} order and {categoryRows} category rows " +
            $"of {days.Count} days written from their state; {strayRows} category rows no batch gave removed");

        return (await reconciliation.RunAsync(from, to, cancellationToken)).Print();
    }
}
