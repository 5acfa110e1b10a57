using System.Collections.Concurrent;
using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.Kpis;

namespace Pipeline.Storage.Kpis;

/// <summary>
/// The written versions of one batch, as their summaries name them (each version's days and customer pages), and their
/// contribution items as one fold reads them. A fold reads only versions whose summary is written, and such a version's
/// items never change again, so each is read once: most in the fold's batched reads (<see cref="Keep"/>), any other on
/// first use with GetItem; an item its summary does not name does not exist and is never asked for.
/// </summary>
internal sealed class BatchContributions
{
    private readonly IAmazonDynamoDB _dynamoDb;
    private readonly string _batchId;
    private readonly IReadOnlyDictionary<int, IReadOnlyDictionary<DateOnly, IReadOnlyList<long>>> _versions;
    private readonly ConcurrentDictionary<string, Dictionary<string, AttributeValue>?> _items = new(StringComparer.Ordinal);

    /// <param name="summaries">The summary items of the batch's written versions (at least one).</param>
    public BatchContributions(IAmazonDynamoDB dynamoDb, string table, string batchId, IEnumerable<Dictionary<string, AttributeValue>> summaries)
    {
        _dynamoDb = dynamoDb;
        Table = table;
        _batchId = batchId;
        _versions = summaries.ToDictionary(s => KpiItems.VersionOfSummary(s[KpiItems.Part].S), s => (IReadOnlyDictionary<DateOnly, IReadOnlyList<long>>)
            (s[KpiItems.SummaryDays].M ?? []).ToDictionary(d => KpiItems.Date(d.Key),
                d => (IReadOnlyList<long>)(d.Value.L ?? []).Select(p => long.Parse(p.N, CultureInfo.InvariantCulture)).ToList()));
        Target = _versions.Keys.Max();
        var pagesByDay = new Dictionary<DateOnly, SortedSet<long>>();
        foreach (var (day, pages) in _versions.Values.SelectMany(days => days))
        {
            if (!pagesByDay.TryGetValue(day, out var set))
            {
                pagesByDay[day] = set = [];
            }
            set.UnionWith(pages);
        }
        PagesByDay = pagesByDay;
    }

    public string Table { get; }

    /// <summary>The newest written version: the one every fold of the batch brings the KPIs to.</summary>
    public int Target { get; }

    /// <summary>Every day any version touches, with every customer page any version has on it: wherever the batch may have left data.</summary>
    public IReadOnlyDictionary<DateOnly, SortedSet<long>> PagesByDay { get; }

    /// <summary>The parts of every contribution item of <paramref name="version"/> (its days' sums, its customer pages).</summary>
    public IEnumerable<string> PartsOf(int version) => _versions.GetValueOrDefault(version)?
        .SelectMany(d => d.Value.Select(p => KpiItems.CustomersPart(version, d.Key, p)).Prepend(KpiItems.DayPart(version, d.Key))) ?? [];

    /// <summary>
    /// The parts of what <paramref name="version"/> has on <paramref name="day"/>: its sums, and its customers on
    /// <paramref name="page"/> if given (none when its summary does not name them: they do not exist).
    /// </summary>
    public IEnumerable<string> PartsOf(int version, DateOnly day, long? page)
    {
        if (_versions.GetValueOrDefault(version)?.GetValueOrDefault(day) is not { } pages)
        {
            yield break;
        }
        yield return KpiItems.DayPart(version, day);
        if (page is { } p && pages.Contains(p))
        {
            yield return KpiItems.CustomersPart(version, day, p);
        }
    }

    /// <summary>The key of one of the batch's contribution items, for a batched read.</summary>
    public (string Table, Dictionary<string, AttributeValue> Key) KeyOf(string part) => (Table, KpiItems.ContributionKey(_batchId, part));

    /// <summary>Whether <paramref name="part"/> is still to be read (it is not kept yet).</summary>
    public bool Lacks(string part) => !_items.ContainsKey(part);

    /// <summary>Keeps what a batched read of <paramref name="parts"/> found (<paramref name="found"/>, items of this table).</summary>
    public void Keep(IEnumerable<string> parts, IEnumerable<Dictionary<string, AttributeValue>> found)
    {
        var items = found.ToDictionary(i => i[KpiItems.Part].S, StringComparer.Ordinal);
        foreach (var part in parts)
        {
            _items[part] = items.GetValueOrDefault(part);
        }
    }

    /// <summary>The day's sums and counts in <paramref name="version"/> of the batch (none for version 0, no version).</summary>
    public async Task<DayTotals> TotalsAsync(int version, DateOnly day, CancellationToken cancellationToken) =>
        PartsOf(version, day, null).FirstOrDefault() is { } part
            ? KpiItems.ReadTotals(await GetAsync(part, cancellationToken).ConfigureAwait(false))
            : DayTotals.Empty;

    /// <summary>The day's customers on one page in <paramref name="version"/> of the batch, as offsets (none for version 0).</summary>
    public async Task<IReadOnlyList<ushort>> CustomersAsync(int version, DateOnly day, long page, CancellationToken cancellationToken) =>
        PartsOf(version, day, page).Skip(1).FirstOrDefault() is { } part
        && KpiItems.BytesOf(await GetAsync(part, cancellationToken).ConfigureAwait(false), KpiItems.Ids) is { } bytes
            ? IdPages.Decode(bytes)
            : [];

    private async Task<Dictionary<string, AttributeValue>?> GetAsync(string part, CancellationToken cancellationToken)
    {
        if (_items.TryGetValue(part, out var item))
        {
            return item;
        }
        item = await _dynamoDb.GetItemOrNullAsync(Table, KpiItems.ContributionKey(_batchId, part), cancellationToken).ConfigureAwait(false);
        _items[part] = item;
        return item;
    }
}
