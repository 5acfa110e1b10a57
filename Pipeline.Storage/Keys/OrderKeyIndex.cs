using System.Collections.Concurrent;
using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Pipeline.Engine.Batches;
using Pipeline.Topology;

namespace Pipeline.Storage.Keys;

public enum KeyKind { Order, OrderItem }

/// <summary>A version of a batch that holds keys.</summary>
public sealed record KeyOwner(string BatchId, int Version)
{
    public override string ToString() => $"{BatchId}#{Version.ToString(CultureInfo.InvariantCulture)}";

    public static KeyOwner Parse(string text)
    {
        var split = text.LastIndexOf('#');
        return new KeyOwner(text[..split], int.Parse(text[(split + 1)..], CultureInfo.InvariantCulture));
    }
}

/// <summary>An id the claiming batch has that another batch in force (or under way) holds already.</summary>
public sealed record KeyConflict(KeyKind Kind, long Id, KeyOwner Owner);

/// <summary>The outcome of a claim: no conflict (the ids are the claimant's now), or the first conflicts and how many there are.</summary>
/// <param name="Pages">The index pages the claimant's ids are on (what <see cref="OrderKeyIndex.ReleaseAsync"/> needs).</param>
public sealed record KeyClaim(IReadOnlyList<KeyConflict> FirstConflicts, long ConflictCount, IReadOnlyList<string> Pages)
{
    public bool Claimed => ConflictCount == 0;
}

/// <summary>
/// Which batch version holds each order id and order item id, so that an order is counted once: ids are kept by page
/// (32,768 consecutive ids an item, each holder's offsets encoded compactly), every change one conditional write on
/// one page. A claim first reads the pages and reports every conflict without writing; then it writes page by page in
/// ascending order, checking again on each, and takes back what it wrote if it meets a conflict after all. Holders
/// that no longer count — rejected, superseded, replaced or retracted versions — are ignored and dropped when a page
/// is written: that is what makes a replaced or retracted batch's ids free again, even if its release never ran.
/// A version of the same batch name never conflicts: a new upload of a batch replaces it.
/// </summary>
public sealed class OrderKeyIndex(IAmazonDynamoDB dynamoDb, PipelineTopology topology)
{
    private const int PageBits = 15;
    private const int MaxReportedConflicts = 10;

    // The attributes of a page item: its key, how often it was written, and each holder's encoded offsets.
    private const string PageAttribute = "page";
    private const string VersionAttribute = "version";
    private const string HoldersAttribute = "holders";

    private string Table => topology.OrderKeysTable.Name;

    /// <param name="isLive">Whether a holder's ids still count (its version is running, in force or failed and resumable).</param>
    public async Task<KeyClaim> ClaimAsync(
        KeyOwner owner, BatchKeys keys, Func<KeyOwner, CancellationToken, Task<bool>> isLive, CancellationToken cancellationToken)
    {
        var pages = Pages(KeyKind.Order, keys.OrderIds)
            .Concat(Pages(KeyKind.OrderItem, keys.OrderItemIds))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ToList();
        var liveness = new ConcurrentDictionary<KeyOwner, Task<bool>>();
        Task<bool> IsLive(KeyOwner holder) => liveness.GetOrAdd(holder, h => isLive(h, cancellationToken));
        var pageKeys = pages.Select(p => p.Key).ToList();

        // Read everything first: a batch with conflicts is reported in full and writes nothing.
        var found = new ConcurrentBag<KeyConflict>();
        var read = new ConcurrentDictionary<string, PageState>();
        long conflictCount = 0;
        await Parallel.ForEachAsync(pages, RequestConcurrency.Options(cancellationToken), async (page, ct) =>
        {
            var state = read[page.Key] = await ReadPageAsync(page.Key, ct).ConfigureAwait(false);
            var holders = state.Holders;
            var conflicts = await ConflictsAsync(owner, page, holders, IsLive).ConfigureAwait(false);
            Interlocked.Add(ref conflictCount, conflicts.Count);
            foreach (var conflict in conflicts.Take(MaxReportedConflicts))
            {
                found.Add(conflict);
            }
        }).ConfigureAwait(false);
        if (conflictCount > 0)
        {
            return new KeyClaim(First(found), conflictCount, pageKeys);
        }

        var written = new List<string>();
        foreach (var page in pages)
        {
            var conflicts = await WritePageAsync(owner, page, read[page.Key], IsLive, cancellationToken).ConfigureAwait(false);
            if (conflicts.Count > 0)
            {
                // Another batch claimed some of these ids between the read and now: this claim loses, and takes back its pages.
                await ReleaseAsync(owner, written, cancellationToken).ConfigureAwait(false);
                return new KeyClaim(First(conflicts), conflicts.Count, pageKeys);
            }
            written.Add(page.Key);
        }
        return new KeyClaim([], 0, pageKeys);
    }

    /// <summary>Drops a version's ids from the pages it claimed (when it is rejected, replaced or retracted); safe to repeat.</summary>
    public async Task ReleaseAsync(KeyOwner owner, IEnumerable<string> pages, CancellationToken cancellationToken)
    {
        foreach (var page in pages)
        {
            for (var race = 0; race < RetryBudgets.KeyPageRaces; race++)
            {
                var (version, holders) = await ReadPageAsync(page, cancellationToken).ConfigureAwait(false);
                if (!holders.Remove(owner.ToString()))
                {
                    break;
                }
                if (await TryWritePageAsync(page, version, holders, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Claims one page: conflicts found on it (nothing written), or none (the owner's ids written, dead holders dropped).
    /// The first write is conditional on the page as <paramref name="read"/> found it; the page is read again only when
    /// that write lost a race, so an uncontended claim is one write a page, not a read and a write.
    /// </summary>
    private async Task<List<KeyConflict>> WritePageAsync(
        KeyOwner owner, KeyPage page, PageState read, Func<KeyOwner, Task<bool>> isLive, CancellationToken cancellationToken)
    {
        for (var race = 0; race < RetryBudgets.KeyPageRaces; race++)
        {
            var (version, holders) = race == 0 ? read : await ReadPageAsync(page.Key, cancellationToken).ConfigureAwait(false);
            var conflicts = await ConflictsAsync(owner, page, holders, isLive).ConfigureAwait(false);
            if (conflicts.Count > 0)
            {
                return conflicts;
            }
            foreach (var holder in holders.Keys.ToList())
            {
                if (holder != owner.ToString() && !await isLive(KeyOwner.Parse(holder)).ConfigureAwait(false))
                {
                    holders.Remove(holder);
                }
            }
            holders[owner.ToString()] = IdPages.Encode(page.Offsets);
            if (await TryWritePageAsync(page.Key, version, holders, cancellationToken).ConfigureAwait(false))
            {
                return [];
            }
        }
        throw new InvalidOperationException($"The key page {page.Key} kept changing under {RetryBudgets.KeyPageRaces} attempts; the delivery will be retried.");
    }

    /// <summary>The ids of the page that live holders of other batches hold too.</summary>
    private static async Task<List<KeyConflict>> ConflictsAsync(
        KeyOwner owner, KeyPage page, Dictionary<string, byte[]> holders, Func<KeyOwner, Task<bool>> isLive)
    {
        var conflicts = new List<KeyConflict>();
        HashSet<ushort>? mine = null; // only when another batch holds ids on the page: most pages have no other holder
        foreach (var (holderText, encoded) in holders)
        {
            var holder = KeyOwner.Parse(holderText);
            if (holder.BatchId == owner.BatchId)
            {
                continue; // a version of the same batch: the new one replaces it
            }
            mine ??= [.. page.Offsets];
            var shared = IdPages.Decode(encoded).Where(mine.Contains).ToList();
            if (shared.Count > 0 && await isLive(holder).ConfigureAwait(false))
            {
                conflicts.AddRange(shared.Select(offset => new KeyConflict(page.Kind, IdPages.IdOf(page.Number, offset, PageBits), holder)));
            }
        }
        return conflicts;
    }

    private async Task<PageState> ReadPageAsync(string page, CancellationToken cancellationToken)
    {
        var response = await dynamoDb.GetItemAsync(new GetItemRequest
        {
            TableName = Table,
            Key = new() { [PageAttribute] = new AttributeValue(page) },
            ConsistentRead = true,
        }, cancellationToken).ConfigureAwait(false);
        if (!response.IsItemSet)
        {
            return new PageState(0, []);
        }
        var item = response.Item;
        var holders = (item.TryGetValue(HoldersAttribute, out var map) ? map.M : null)?.ToDictionary(h => h.Key, h => h.Value.B.ToArray()) ?? [];
        return new PageState(long.Parse(item[VersionAttribute].N, CultureInfo.InvariantCulture), holders);
    }

    private async Task<bool> TryWritePageAsync(string page, long version, Dictionary<string, byte[]> holders, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.PutItemAsync(new PutItemRequest
            {
                TableName = Table,
                Item = new()
                {
                    [PageAttribute] = new AttributeValue(page),
                    [VersionAttribute] = new AttributeValue { N = (version + 1).ToString(CultureInfo.InvariantCulture) },
                    [HoldersAttribute] = new AttributeValue
                    {
                        M = holders.ToDictionary(h => h.Key, h => new AttributeValue { B = new MemoryStream(h.Value, writable: false) }),
                        IsMSet = true,
                    },
                },
                ConditionExpression = version == 0 ? "attribute_not_exists(#page)" : "#version = :version",
                ExpressionAttributeNames = version == 0 ? new() { ["#page"] = PageAttribute } : new() { ["#version"] = VersionAttribute },
                ExpressionAttributeValues = version == 0
                    ? null
                    : new() { [":version"] = new AttributeValue { N = version.ToString(CultureInfo.InvariantCulture) } },
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    private static IEnumerable<KeyPage> Pages(KeyKind kind, IEnumerable<long> ids) =>
        IdPages.Split(ids, PageBits).Select(p => new KeyPage(kind, p.Key, p.Value));

    private static List<KeyConflict> First(IEnumerable<KeyConflict> conflicts) =>
        conflicts.OrderBy(c => c.Kind).ThenBy(c => c.Id).Take(MaxReportedConflicts).ToList();

    /// <summary>A page as read: how often it was written (0: never), and each holder's encoded offsets.</summary>
    private sealed record PageState(long Version, Dictionary<string, byte[]> Holders);

    private sealed record KeyPage(KeyKind Kind, long Number, List<ushort> Offsets)
    {
        public string Key { get; } = $"{(Kind == KeyKind.Order ? "order" : "item")}#{Number.ToString("D12", CultureInfo.InvariantCulture)}";
    }
}
