using System.CommandLine;
using System.Globalization;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Kpis;
using Pipeline.Storage.Kpis;

namespace Pipeline.Cli.Commands;

/// <summary>What one reconciliation found: the days compared, the versions read, and every difference, each on its own line.</summary>
internal sealed record ReconciliationReport(
    DateOnly? From, DateOnly? To, int Days, int Batches, long Orders, IReadOnlyList<string> Differences, IReadOnlyList<string> Unverified)
{
    public bool Equal => Differences.Count == 0 && Unverified.Count == 0;

    /// <summary>Writes every line of the report, then the summary, to stdout; the command's exit code.</summary>
    public int Print()
    {
        foreach (var line in Lines)
        {
            Console.Out.WriteLine(line);
        }
        Console.Out.WriteLine(Summary);
        return Equal ? ExitCodes.Accepted : ExitCodes.Failed;
    }

    public IReadOnlyList<string> Lines => [.. Unverified, .. Differences];

    /// <summary>The one line a run ends with: what was compared, and the verdict.</summary>
    public string Summary
    {
        get
        {
            var days = From is { } from && To is { } to
                ? $"{Days} days ({KpiCsv.Format(from)} to {KpiCsv.Format(to)})"
                : "no day with data";
            var what = $"{days}, {Batches} batches in force, {Orders.ToString("N0", CultureInfo.InvariantCulture)} orders";
            return Equal
                ? $"reconciled {what}: the KPI tables equal the engine's recomputation from the archive"
                : $"{Differences.Count} differences and {Unverified.Count} unverifiable versions over {what}";
        }
    }
}

/// <summary>
/// Recomputes the KPIs of [from, to] from the archive of the versions in force (<see cref="KpiArchive"/>), one batch at a
/// time into one accumulator, and compares them with the KPI tables as <see cref="KpiComparison"/> does: every figure of
/// every day and category, exactly. Days of a version that cannot be verified are left out of the comparison and named.
/// </summary>
internal sealed class Reconciliation(AwsConnection aws)
{
    /// <summary>The <c>--from</c> and <c>--to</c> options of <c>reconcile</c> and <c>rebuild</c>, added to <paramref name="command"/>.</summary>
    public static (Option<DateOnly?> From, Option<DateOnly?> To) AddRangeOptions(Command command, string verb)
    {
        var from = KpisCommand.DateOption("--from", $"First day to {verb} (inclusive; default: the first with data).");
        var to = KpisCommand.DateOption("--to", $"Last day to {verb} (inclusive; default: the last with data).");
        command.Options.Add(from);
        command.Options.Add(to);
        return (from, to);
    }

    /// <summary>What is wrong with a range whose ends were both parsed: --from after --to; null when nothing is.</summary>
    public static string? RangeError(DateOnly? from, DateOnly? to) => from > to ? "--from must not be after --to" : null;

    private readonly KpiArchive _archive = new(aws.S3, aws.DynamoDb, aws.Topology);
    private readonly KpiQueries _kpis = new(aws.DynamoDb, aws.Topology);

    /// <summary>The versions in force with data in [from, to] (or that cannot tell), and those that cannot be verified.</summary>
    public Task<(IReadOnlyList<ArchivedVersion> Versions, IReadOnlyList<UnverifiableVersion> Unverifiable)> FindAsync(
        DateOnly from, DateOnly to, CancellationToken cancellationToken) => _archive.InForceAsync(from, to, cancellationToken);

    public async Task<ReconciliationReport> RunAsync(DateOnly? from, DateOnly? to, CancellationToken cancellationToken)
    {
        var (first, last) = (from ?? DateOnly.MinValue, to ?? DateOnly.MaxValue);
        var (versions, unverifiable) = await FindAsync(first, last, cancellationToken);
        var unverified = unverifiable.Select(u => $"batch {u.BatchId} version {u.Version} cannot be verified: {u.Reason}").ToList();

        // The stored rows are read while the engine recomputes: they do not depend on it.
        var stored = ReadStoredAsync(first, last, cancellationToken);
        var progress = new ProgressCounter();
        var expected = new KpiAccumulator();
        using (TerminalProgress.Show(progress, versions.Sum(v => v.Bytes), $"reconciling {versions.Count} batches: read", TerminalProgress.Megabytes))
        {
            foreach (var version in versions)
            {
                // One batch at a time: the engine's memory bound holds for each, and the accumulator keeps only sums and customer ids.
                var (kpis, problem) = await Task.Run(() => _archive.Recompute(version, first, last, progress, cancellationToken), cancellationToken);
                if (kpis is null)
                {
                    unverified.Add($"batch {version.BatchId} version {version.Version} cannot be verified: {problem}");
                    continue;
                }
                expected.Add(KpiAccumulator.From(kpis));
            }
        }
        var tables = KpiCalculator.Compute(expected.ToPartial());

        // Every day in the range that has either side's data.
        var (storedDays, orders, categories) = await stored;
        var days = storedDays.Union(tables.OrderKpis.Select(r => r.OrderDate)).Order().ToList();
        if (days.Count == 0)
        {
            return new ReconciliationReport(null, null, 0, versions.Count, 0, [], unverified);
        }
        var (from0, to0) = (days[0], days[^1]);

        // A version that cannot be verified leaves its days unproven either way: they are named, not compared.
        var unproven = unverifiable.Count == 0 ? [] : await DaysOfAsync(unverifiable, cancellationToken);
        bool Proven(DateOnly day) => !unproven.Contains(day);
        var differences = KpiComparison.Differences(
            new KpiTables(tables.CategoryKpis.Where(r => Proven(r.OrderDate)).ToList(), tables.OrderKpis.Where(r => Proven(r.OrderDate)).ToList()),
            orders.Where(r => Proven(r.OrderDate)).ToList(), categories.Where(r => Proven(r.OrderDate)).ToList());
        return new ReconciliationReport(from0, to0, days.Count, versions.Count, tables.OrderKpis.Sum(r => r.TotalOrders), differences, unverified);
    }

    /// <summary>The days in [from, to] the KPI tables hold, and their order and category rows.</summary>
    private async Task<(List<DateOnly> Days, IReadOnlyList<OrderKpiRow> Orders, IReadOnlyList<CategoryKpiRow> Categories)> ReadStoredAsync(
        DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var days = (await _kpis.ListDaysAsync(cancellationToken)).Where(d => d >= from && d <= to).Order().ToList();
        if (days.Count == 0)
        {
            return (days, [], []);
        }
        var orders = await _kpis.GetDaysAsync(days[0], days[^1], cancellationToken);
        var categories = await _kpis.GetCategoriesAsync(await _kpis.ListCategoriesAsync(cancellationToken), days[0], days[^1], cancellationToken);
        return (days, orders, categories);
    }

    private async Task<HashSet<DateOnly>> DaysOfAsync(IEnumerable<UnverifiableVersion> versions, CancellationToken cancellationToken)
    {
        var days = new HashSet<DateOnly>();
        foreach (var version in versions)
        {
            days.UnionWith(await _archive.DaysOfAsync(version.BatchId, version.Version, cancellationToken) ?? []);
        }
        return days;
    }
}
