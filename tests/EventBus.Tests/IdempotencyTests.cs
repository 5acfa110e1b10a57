using System.Collections.Concurrent;
using EventBus.AwsSqs;
using EventBus.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventBus.Tests;

public sealed record PaymentCaptured(string PaymentId, decimal Amount);

/// <summary>The DynamoDB idempotency helper on dynalite: duplicates are detected with conditional writes only.</summary>
public class IdempotencyTests(AwsAndDynamoDbEmulatorFixture aws) : IClassFixture<AwsAndDynamoDbEmulatorFixture>
{
    private async Task<IdempotencyStore> StoreAsync(string table, TimeSpan? lease = null)
    {
        var dynamoDb = aws.CreateDynamoDbClient();
        var store = new IdempotencyStore(dynamoDb, table) { Lease = lease ?? TimeSpan.FromMinutes(5) };
        await dynamoDb.CreateTableAsync(store.CreateTableRequest());
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
    public async Task A_key_held_by_another_consumer_is_a_conflict_until_its_lease_runs_out()
    {
        var store = await StoreAsync("processed-leases", lease: TimeSpan.FromSeconds(1));
        var holding = new TaskCompletionSource();
        var inProgress = store.RunOnceAsync("batch-2", _ => holding.Task);

        var conflict = await Assert.ThrowsAsync<IdempotencyConflictException>(() => store.RunOnceAsync("batch-2", _ => Task.CompletedTask));
        Assert.Equal("batch-2", conflict.Key);

        // The first consumer hangs past its lease (as a crashed one would): the key can be taken over.
        await Task.Delay(TimeSpan.FromSeconds(2.1));
        Assert.Equal(IdempotencyOutcome.Executed, await store.RunOnceAsync("batch-2", _ => Task.CompletedTask));
        holding.SetResult();
        // The late finisher learns that the key is no longer its own.
        await Assert.ThrowsAsync<IdempotencyConflictException>(() => inProgress);
        Assert.True(await store.IsDoneAsync("batch-2"));
    }
}
