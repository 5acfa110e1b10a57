using Amazon.Runtime;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Collections;
using Pipeline.Storage.Keys;

namespace Pipeline.Storage.Tests;

/// <summary>The order key index (dynalite over HTTP): an order id or order item id is held by one batch in force at a time.</summary>
public class OrderKeyIndexTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>
{
    private static Task<bool> Live(KeyOwner owner, CancellationToken cancellationToken) => Task.FromResult(true);

    private static BatchKeys Keys(long firstOrder, int orders, long firstItem, int items) => new(Ids(firstOrder, orders), Ids(firstItem, items));

    private static IdSet Ids(long first, int count)
    {
        var set = new IdSet();
        for (var id = first; id < first + count; id++)
        {
            set.Add(id);
        }
        return set;
    }

    /// <summary>Ids far from every other test's, so tests sharing the table do not meet.</summary>
    private static long Base() => Random.Shared.NextInt64(1, 1L << 40) << 20;

    [Fact]
    public async Task Batches_with_their_own_ids_claim_them_and_a_batch_with_ids_held_elsewhere_is_refused_naming_holder_and_ids()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var index = new OrderKeyIndex(dynamoDb, aws.Topology);
        var at = Base();
        var holder = new KeyOwner($"held-{Guid.NewGuid():N}", 1);

        Assert.True((await index.ClaimAsync(holder, Keys(at, 50_000, at, 110_000), Live, CancellationToken.None)).Claimed);
        Assert.True((await index.ClaimAsync(
            new KeyOwner($"next-{Guid.NewGuid():N}", 1), Keys(at + 50_000, 10, at + 110_000, 20), Live, CancellationToken.None)).Claimed);
        // Overlapping: orders at+49,990 .. at+50,004 (10 of them held), items at+100 .. at+104 (5 held).
        var overlapping = await index.ClaimAsync(new KeyOwner($"late-{Guid.NewGuid():N}", 1), Keys(at + 49_990, 10, at + 100, 5), Live, CancellationToken.None);

        Assert.False(overlapping.Claimed);
        Assert.Equal(15, overlapping.ConflictCount);
        Assert.Equal(new KeyConflict(KeyKind.Order, at + 49_990, holder), overlapping.FirstConflicts[0]);
        Assert.Equal(10, overlapping.FirstConflicts.Count);
        // The refused batch wrote nothing: its ids outside the overlap are still free.
        Assert.True((await index.ClaimAsync(
            new KeyOwner($"free-{Guid.NewGuid():N}", 1), Keys(at + 1_000_000, 5, at + 1_000_000, 5), Live, CancellationToken.None)).Claimed);
    }

    [Fact]
    public async Task A_new_version_of_the_same_batch_takes_its_ids_over_and_ids_of_versions_that_no_longer_count_are_free()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var index = new OrderKeyIndex(dynamoDb, aws.Topology);
        var at = Base();
        var batch = $"versions-{Guid.NewGuid():N}";
        await index.ClaimAsync(new KeyOwner(batch, 1), Keys(at, 100, at, 200), Live, CancellationToken.None);

        Assert.True((await index.ClaimAsync(new KeyOwner(batch, 2), Keys(at, 60, at, 120), Live, CancellationToken.None)).Claimed);
        // Version 1 was replaced: its ids that version 2 dropped are free, version 2's are not.
        Task<bool> OnlyVersion2(KeyOwner owner, CancellationToken _) => Task.FromResult(owner.BatchId != batch || owner.Version == 2);
        Assert.True((await index.ClaimAsync(
            new KeyOwner($"other-{Guid.NewGuid():N}", 1), Keys(at + 60, 40, at + 120, 80), OnlyVersion2, CancellationToken.None)).Claimed);
        var refused = await index.ClaimAsync(
            new KeyOwner($"third-{Guid.NewGuid():N}", 1), Keys(at + 59, 1, at + 500_000, 1), OnlyVersion2, CancellationToken.None);
        Assert.Equal(new KeyConflict(KeyKind.Order, at + 59, new KeyOwner(batch, 2)), Assert.Single(refused.FirstConflicts));
    }

    [Fact]
    public async Task Of_batches_claiming_the_same_ids_at_once_exactly_one_wins()
    {
        var at = Base();
        var claims = await Task.WhenAll(Enumerable.Range(0, 5).Select(async i =>
        {
            using var replica = aws.CreateDynamoDb();
            // Each also has ids of its own on other pages, claimed in the same ascending order.
            var keys = new BatchKeys(Ids(at, 1_000), Ids(at + (i + 1) * 1_000_000L, 10));
            return await new OrderKeyIndex(replica, aws.Topology)
                .ClaimAsync(new KeyOwner($"racer-{i}-{Guid.NewGuid():N}", 1), keys, Live, CancellationToken.None);
        }));

        Assert.Single(claims, c => c.Claimed);
    }

    [Fact]
    public async Task Released_ids_can_be_claimed_by_another_batch()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var index = new OrderKeyIndex(dynamoDb, aws.Topology);
        var at = Base();
        var first = new KeyOwner($"released-{Guid.NewGuid():N}", 1);
        var claim = await index.ClaimAsync(first, Keys(at, 10, at, 10), Live, CancellationToken.None);

        await index.ReleaseAsync(first, claim.Pages, CancellationToken.None);

        Assert.True((await index.ClaimAsync(new KeyOwner($"after-{Guid.NewGuid():N}", 1), Keys(at, 10, at, 10), Live, CancellationToken.None)).Claimed);
    }

    [Fact]
    public async Task An_uncontended_claim_reads_each_page_once_and_writes_it_once()
    {
        var requests = new DynamoRequestCounter();
        using var dynamoDb = aws.CreateDynamoDb(config => config.HttpClientFactory = requests);
        var at = Base();

        // 70,000 order ids fill three pages of 32,768; the ten item ids one more.
        var claim = await new OrderKeyIndex(dynamoDb, aws.Topology)
            .ClaimAsync(new KeyOwner($"uncontended-{Guid.NewGuid():N}", 1), Keys(at, 70_000, at, 10), Live, CancellationToken.None);

        Assert.True(claim.Claimed);
        Assert.Equal(4, claim.Pages.Count);
        Assert.Equal(4, requests.Of("GetItem"));
        Assert.Equal(4, requests.Of("PutItem"));
    }
}
