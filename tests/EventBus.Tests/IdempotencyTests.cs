using System.Collections.Concurrent;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.SQS;
using EventBus.AwsSqs;
using EventBus.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EventBus.Tests;

public sealed record PaymentCaptured(string PaymentId, decimal Amount);

/// <summary>The DynamoDB idempotency helper on dynalite: duplicates are detected with conditional writes only.</summary>
public class IdempotencyTests(AwsAndDynamoDbEmulatorFixture aws) : IClassFixture<AwsAndDynamoDbEmulatorFixture>
{
    private async Task<IdempotencyStore> StoreAsync(string table, TimeSpan? lease = null, TimeProvider? clock = null)
    {
        var dynamoDb = aws.CreateDynamoDbClient();
        var store = lease is null
            ? new IdempotencyStore(dynamoDb, table)
            : new IdempotencyStore(dynamoDb, table, clock: clock) { LeaseOutsideHandlers = lease.Value };
        await dynamoDb.CreateTableAsync(store.CreateTableRequest());
        // dynalite reports a new table CREATING for a moment, even with no creation delay; a write then is "not found".
        while ((await dynamoDb.DescribeTableAsync(table)).Table.TableStatus != TableStatus.ACTIVE)
        {
            await Task.Delay(50);
        }
        return store;
    }

    /// <summary>Captures a payment at most once per message, whatever SQS delivers.</summary>
    public sealed class CaptureOnce(IdempotencyStore store, ConcurrentQueue<IdempotencyOutcome> outcomes, ConcurrentQueue<string> captures)
        : IIntegrationEventHandler<PaymentCaptured>
    {
        public async Task HandleAsync(PaymentCaptured message, MessageContext context, CancellationToken cancellationToken)
        {
            var outcome = await store.RunOnceAsync(context.MessageId, _ =>
            {
                captures.Enqueue(message.PaymentId);
                return Task.CompletedTask;
            }, cancellationToken);
            outcomes.Enqueue(outcome);
        }
    }

    [Fact]
    public async Task A_duplicate_delivery_of_the_same_message_is_skipped()
    {
        var store = await StoreAsync("processed-duplicates");
        var outcomes = new ConcurrentQueue<IdempotencyOutcome>();
        var captures = new ConcurrentQueue<string>();
        await using var host = await BusHost.StartAsync(aws, "capture-payments",
            bus => bus.AddSubscription<PaymentCaptured, CaptureOnce>(),
            options => options.MaxConcurrency = 1,
            services: s => s.AddSingleton(store).AddSingleton(outcomes).AddSingleton(captures));
        using var sqs = aws.CreateSqsClient();

        // The same envelope twice, as SQS may deliver it (or a producer may retry a send).
        var body = EnvelopeSerializer.Serialize(EnvelopeSerializer.Wrap(new PaymentCaptured("pay-1", 10m), Guid.NewGuid(), DateTimeOffset.UtcNow));
        await QueueProbe.SendAsync(sqs, "capture-payments", body);
        await QueueProbe.SendAsync(sqs, "capture-payments", body);

        await QueueProbe.EventuallyAsync(() => Task.FromResult(outcomes.Count == 2), "both deliveries are handled");
        Assert.Equal([IdempotencyOutcome.Executed, IdempotencyOutcome.AlreadyDone], outcomes);
        Assert.Equal(["pay-1"], captures);
    }

    /// <summary>The table's TTL (in the stack, and where the provisioner can set one) is the attribute the store writes.</summary>
    [Fact]
    public async Task Every_mark_carries_the_expiry_the_pipelines_table_deletes_it_by()
    {
        var store = await StoreAsync("processed-expiry");
        await store.RunOnceAsync("batch-1", _ => Task.CompletedTask);

        using var dynamoDb = aws.CreateDynamoDbClient();
        var item = (await dynamoDb.GetItemAsync(store.TableName, new() { [IdempotencyStore.KeyAttribute] = new() { S = "batch-1" } })).Item;
        Assert.Equal(IdempotencyStore.ExpiresAtAttribute, new Pipeline.Topology.PipelineTopology().ProcessedMessagesTable.TimeToLiveAttribute);
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(
            long.Parse(item[IdempotencyStore.ExpiresAtAttribute].N, System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(expiresAt - DateTimeOffset.UtcNow, store.Retention - TimeSpan.FromMinutes(5), store.Retention);
    }

    [Fact]
    public async Task Work_that_fails_releases_its_key_so_a_redelivery_runs_it()
    {
        var store = await StoreAsync("processed-failures");
        var runs = 0;

        await Assert.ThrowsAsync<TimeoutException>(() => store.RunOnceAsync("batch-1", _ => { runs++; throw new TimeoutException("S3 was slow"); }));
        Assert.False(await store.IsDoneAsync("batch-1"));
        Assert.Equal(IdempotencyOutcome.Executed, await store.RunOnceAsync("batch-1", _ => { runs++; return Task.CompletedTask; }));

        Assert.Equal(2, runs);
        Assert.True(await store.IsDoneAsync("batch-1"));
    }

    [Fact]
    public async Task A_live_holder_keeps_its_key_past_the_lease_and_a_crashed_one_loses_it_when_the_lease_runs_out()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lease = TimeSpan.FromSeconds(2);
        var other = await StoreAsync("processed-leases", lease, clock);
        var faults = new NetworkFaults(TimeSpan.FromSeconds(5));
        var holder = new IdempotencyStore(aws.CreateDynamoDbClient(faults), other.TableName, clock: clock) { LeaseOutsideHandlers = lease };
        var (working, finish) = (new TaskCompletionSource(), new TaskCompletionSource());
        var inProgress = holder.RunOnceAsync("batch-2", async _ =>
        {
            working.SetResult();
            await finish.Task;
        });
        await working.Task;

        // Past its lease, the holder still has the key: it renews the lease (every third of it) while the work runs.
        var renewal = lease / 3;
        for (var elapsed = renewal; elapsed <= lease + renewal; elapsed += renewal)
        {
            clock.Advance(renewal);
            var renewed = (clock.GetUtcNow() + lease).ToUnixTimeMilliseconds();
            await QueueProbe.EventuallyAsync(async () => await LeaseUntilAsync(other.TableName, "batch-2") == renewed, $"the lease renewed at {elapsed}");
        }
        var conflict = await Assert.ThrowsAsync<IdempotencyConflictException>(() => other.RunOnceAsync("batch-2", _ => Task.CompletedTask));
        Assert.Equal("batch-2", conflict.Key);

        // The holder loses the network, as a crashed consumer does: once its lease runs out, the key can be taken over.
        faults.Cut();
        clock.Advance(lease + renewal);
        Assert.Equal(IdempotencyOutcome.Executed, await TryRunOnceAsync(other, "batch-2"));
        faults.Heal();
        finish.SetResult();
        // The late finisher learns that the key is no longer its own.
        await Assert.ThrowsAsync<IdempotencyConflictException>(() => inProgress);
        Assert.True(await other.IsDoneAsync("batch-2"));
    }

    /// <summary>Until when the key's holder has it, as stored.</summary>
    private async Task<long?> LeaseUntilAsync(string table, string key)
    {
        using var dynamoDb = aws.CreateDynamoDbClient();
        var item = await dynamoDb.GetItemAsync(new GetItemRequest(table, new() { [IdempotencyStore.KeyAttribute] = new(key) }, consistentRead: true));
        return item.Item?.GetValueOrDefault(IdempotencyStore.LeaseUntilAttribute)?.N is { } until
            ? long.Parse(until, System.Globalization.CultureInfo.InvariantCulture)
            : null;
    }

    private static async Task<IdempotencyOutcome?> TryRunOnceAsync(IdempotencyStore store, string key)
    {
        try
        {
            return await store.RunOnceAsync(key, _ => Task.CompletedTask);
        }
        catch (IdempotencyConflictException)
        {
            return null;
        }
    }

    [Fact]
    public async Task A_done_mark_that_fails_releases_the_key_so_that_a_redelivery_runs_the_work_again()
    {
        var store = await StoreAsync("processed-unmarked");
        var faults = new NetworkFaults(TimeSpan.FromSeconds(5));
        var unlucky = new IdempotencyStore(aws.CreateDynamoDbClient(faults), store.TableName);
        var runs = 0;
        faults.Inject("DynamoDB_20120810.UpdateItem", NetworkFault.ConnectionDropped);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => unlucky.RunOnceAsync("batch-3", _ => { runs++; return Task.CompletedTask; }));
        Assert.Equal(IdempotencyOutcome.Executed, await store.RunOnceAsync("batch-3", _ => { runs++; return Task.CompletedTask; }));

        // At-least-once: the work ran again rather than the key being held until its lease ran out.
        Assert.Equal(2, runs);
        Assert.True(await store.IsDoneAsync("batch-3"));
    }

    /// <summary>Captures once per message; the first delivery's work runs until it is abandoned.</summary>
    public sealed class CaptureOnceAfterACrash(
        IdempotencyStore store, ConcurrentQueue<(int ReceiveCount, IdempotencyOutcome Outcome)> outcomes, ConcurrentQueue<int> started)
        : IIntegrationEventHandler<PaymentCaptured>
    {
        public async Task HandleAsync(PaymentCaptured message, MessageContext context, CancellationToken cancellationToken)
        {
            var outcome = await store.RunOnceAsync(context.MessageId, async work =>
            {
                started.Enqueue(context.ReceiveCount);
                if (context.ReceiveCount == 1)
                {
                    await Task.Delay(Timeout.Infinite, work);
                }
            }, cancellationToken);
            outcomes.Enqueue((context.ReceiveCount, outcome));
        }
    }

    [Fact]
    public async Task A_redelivery_after_the_holder_crashed_takes_the_key_over_before_the_message_is_dead_lettered()
    {
        const string queue = "capture-after-crash";
        var table = (await StoreAsync("processed-crashes")).TableName;
        var (outcomes, started) = (new ConcurrentQueue<(int, IdempotencyOutcome)>(), new ConcurrentQueue<int>());
        // Dead-lettered on the third receive, with no wait between deliveries: the budget is as small as it gets.
        Action<SqsEventBusOptions> options = o =>
        {
            o.VisibilityTimeout = TimeSpan.FromSeconds(2);
            o.MaxReceiveCount = 3;
            o.ShutdownTimeout = TimeSpan.FromMilliseconds(200);
        };
        Action<SqsEventBusBuilder> subscribe = bus => bus.AddSubscription<PaymentCaptured, CaptureOnceAfterACrash>();
        var crashing = new NetworkFaults(TimeSpan.FromSeconds(5));
        await using var first = await BusHost.StartAsync(aws, queue, subscribe, options, s => s
            .AddSingleton(new IdempotencyStore(aws.CreateDynamoDbClient(crashing), table)).AddSingleton(outcomes).AddSingleton(started)
            .AddSingleton<IAmazonSQS>(aws.CreateSqsClient(crashing)));
        using var sqs = aws.CreateSqsClient();

        await first.Bus.PublishAsync(new PaymentCaptured("pay-2", 20m));
        await QueueProbe.EventuallyAsync(() => Task.FromResult(started.Contains(1)), "the first consumer claims the key and starts");
        // The first consumer dies mid-work: it extends nothing, renews nothing, releases nothing.
        crashing.Cut();
        await using var second = await BusHost.StartAsync(aws, queue, subscribe, options, s => s
            .AddSingleton(new IdempotencyStore(aws.CreateDynamoDbClient(), table)).AddSingleton(outcomes).AddSingleton(started));

        await QueueProbe.EventuallyAsync(() => Task.FromResult(!outcomes.IsEmpty), "the redelivered message is handled");
        var (receiveCount, outcome) = Assert.Single(outcomes);
        Assert.Equal(IdempotencyOutcome.Executed, outcome);
        Assert.InRange(receiveCount, 2, 3);
        Assert.Equal((0, 0), await QueueProbe.CountAsync(sqs, $"{queue}_error"));
        crashing.Heal();
    }
}
