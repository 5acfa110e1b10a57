using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventBus.AwsSqs;

/// <summary>What <see cref="IdempotencyStore.RunOnceAsync"/> did.</summary>
public enum IdempotencyOutcome
{
    /// <summary>The work ran now and is recorded as done.</summary>
    Executed,

    /// <summary>The work had been done before (a duplicate delivery or a replay): it did not run again.</summary>
    AlreadyDone,
}

/// <summary>Another consumer holds the key right now: the delivery fails, and is redelivered after that consumer is done.</summary>
public sealed class IdempotencyConflictException(string key) : Exception($"'{key}' is being processed by another consumer.")
{
    public string Key { get; } = key;
}

/// <summary>
/// Records "this message (or business key) is done" in a DynamoDB table with conditional single-item writes, so a
/// duplicate delivery is detected and skipped. No transactions are needed (the local emulator has none).
/// </summary>
/// <remarks>
/// A key is claimed first, for a lease that is renewed while the work runs, and marked done after the work succeeded.
/// In a handler the lease is half the message's <see cref="MessageContext.LockDuration"/> (the queue's visibility
/// timeout): a consumer that dies stops renewing, and its lease has run out by the time the message is visible again,
/// so the redelivery takes the key over instead of failing on it until the message is dead-lettered. Work that fails,
/// and a done mark that fails, release the key at once. The work itself must tolerate a rerun after a crash between its
/// end and the done mark (at-least-once, like SQS). The table has a string partition key <c>id</c>;
/// <c>expires_at</c> (epoch seconds) suits a DynamoDB TTL.
/// </remarks>
/// <param name="clock">What leases and done marks are timed on (the system's clock unless given).</param>
public sealed partial class IdempotencyStore(IAmazonDynamoDB dynamoDb, string tableName, ILogger<IdempotencyStore>? logger = null, TimeProvider? clock = null)
{
    public const string KeyAttribute = "id";

    /// <summary>When a claim or done mark may go (epoch seconds): the table's TTL attribute.</summary>
    public const string ExpiresAtAttribute = "expires_at";

    /// <summary>Until when (epoch milliseconds) the consumer that claimed a key holds it, unless it renews the lease.</summary>
    internal const string LeaseUntilAttribute = "lease_until";
    private const string Started = "started";
    private const string Done = "done";
    private static readonly TimeSpan MinimumLease = TimeSpan.FromMilliseconds(500);
    private readonly ILogger _logger = logger ?? NullLogger<IdempotencyStore>.Instance;
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public string TableName { get; } = tableName;

    /// <summary>The lease of a claim made outside a handler (a tool, a test); in a handler it follows the message's queue.</summary>
    public TimeSpan LeaseOutsideHandlers { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a done mark is kept (written as <c>expires_at</c>).</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Runs <paramref name="work"/> unless <paramref name="key"/> is already done; marks it done when the work succeeds.
    /// The work's token is also cancelled if the claim is lost (another consumer took the key over).
    /// </summary>
    /// <exception cref="IdempotencyConflictException">Another consumer holds the key now, or took it over meanwhile.</exception>
    public async Task<IdempotencyOutcome> RunOnceAsync(string key, Func<CancellationToken, Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var lease = MessageContext.Current?.LockDuration / 2 ?? LeaseOutsideHandlers;
        lease = lease < MinimumLease ? MinimumLease : lease;
        var owner = Guid.NewGuid().ToString("N");
        if (!await TryClaimAsync(key, owner, lease, cancellationToken).ConfigureAwait(false))
        {
            return await IsDoneAsync(key, cancellationToken).ConfigureAwait(false)
                ? IdempotencyOutcome.AlreadyDone
                : throw new IdempotencyConflictException(key);
        }

        using var claim = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            // Renewed three times a lease, so that one failed renewal does not lose it.
            await using (new Heartbeat(lease / 3, renewing => RenewAsync(key, owner, lease, claim, renewing),
                             error => LogRenewalFailed(key, error.Message), _clock, claim.Token))
            {
                await work(claim.Token).ConfigureAwait(false);
            }
            await MarkDoneAsync(key, owner, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (claim.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The claim was lost: the key is another consumer's now, not ours to release.
            throw new IdempotencyConflictException(key);
        }
        catch
        {
            // The work failed, or its done mark did not get through: a redelivery may run it (again) at once, rather
            // than fail on the key until the lease runs out.
            await ReleaseAsync(key, owner).ConfigureAwait(false);
            throw;
        }
        return IdempotencyOutcome.Executed;
    }

    /// <summary>Whether <paramref name="key"/> is recorded as done (a strongly consistent read).</summary>
    public async Task<bool> IsDoneAsync(string key, CancellationToken cancellationToken = default)
    {
        var item = await dynamoDb.GetItemAsync(new GetItemRequest
        {
            TableName = TableName,
            Key = Key(key),
            ConsistentRead = true,
        }, cancellationToken).ConfigureAwait(false);
        return item.Item?.GetValueOrDefault("status")?.S == Done;
    }

    /// <summary>A request that creates the table (on-demand), for tests and tools that provision it themselves.</summary>
    public CreateTableRequest CreateTableRequest() => new()
    {
        TableName = TableName,
        BillingMode = BillingMode.PAY_PER_REQUEST,
        AttributeDefinitions = [new AttributeDefinition(KeyAttribute, ScalarAttributeType.S)],
        KeySchema = [new KeySchemaElement(KeyAttribute, KeyType.HASH)],
    };

    private async Task<bool> TryClaimAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        try
        {
            await dynamoDb.PutItemAsync(new PutItemRequest
            {
                TableName = TableName,
                Item = new Dictionary<string, AttributeValue>(Key(key))
                {
                    ["status"] = new() { S = Started },
                    ["owner"] = new() { S = owner },
                    [LeaseUntilAttribute] = Milliseconds(now + lease),
                    [ExpiresAtAttribute] = new() { N = (now + Retention).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) },
                },
                // New, or claimed by a consumer whose lease ran out; never over a done mark.
                ConditionExpression = $"attribute_not_exists(#id) OR (#status = :started AND {LeaseUntilAttribute} < :now)",
                ExpressionAttributeNames = new() { ["#id"] = KeyAttribute, ["#status"] = "status" },
                ExpressionAttributeValues = new() { [":started"] = new() { S = Started }, [":now"] = Milliseconds(now) },
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    /// <summary>Pushes the lease out again while the claim is ours; cancels <paramref name="claim"/> once it is not.</summary>
    private async Task RenewAsync(string key, string owner, TimeSpan lease, CancellationTokenSource claim, CancellationToken cancellationToken)
    {
        if (!await UpdateIfClaimedAsync(key, owner, $"SET {LeaseUntilAttribute} = :until",
                new() { [":until"] = Milliseconds(_clock.GetUtcNow() + lease) }, cancellationToken).ConfigureAwait(false))
        {
            // Our lease ran out (this process stalled or lost the network) and another consumer took the key over.
            await claim.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task MarkDoneAsync(string key, string owner, CancellationToken cancellationToken)
    {
        if (!await UpdateIfClaimedAsync(key, owner, $"SET #status = :done, done_at = :now REMOVE {LeaseUntilAttribute}", new()
        {
            [":done"] = new() { S = Done },
            [":now"] = new() { S = _clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture) },
        }, cancellationToken).ConfigureAwait(false))
        {
            // Our lease ran out and another consumer took the key over: let the delivery fail and be redelivered.
            throw new IdempotencyConflictException(key);
        }
    }

    /// <summary>Applies <paramref name="update"/> if <paramref name="owner"/> still holds the claim; false if it does not.</summary>
    private async Task<bool> UpdateIfClaimedAsync(
        string key, string owner, string update, Dictionary<string, AttributeValue> values, CancellationToken cancellationToken)
    {
        values[":owner"] = new() { S = owner };
        values[":started"] = new() { S = Started };
        try
        {
            await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = TableName,
                Key = Key(key),
                UpdateExpression = update,
                ConditionExpression = "#owner = :owner AND #status = :started",
                ExpressionAttributeNames = new() { ["#status"] = "status", ["#owner"] = "owner" },
                ExpressionAttributeValues = values,
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    /// <summary>Gives the key up if it is still ours and not done; never throws (if this fails too, the lease runs out).</summary>
    private async Task ReleaseAsync(string key, string owner)
    {
        try
        {
            await dynamoDb.DeleteItemAsync(new DeleteItemRequest
            {
                TableName = TableName,
                Key = Key(key),
                ConditionExpression = "#owner = :owner AND #status = :started",
                ExpressionAttributeNames = new() { ["#status"] = "status", ["#owner"] = "owner" },
                ExpressionAttributeValues = new() { [":owner"] = new() { S = owner }, [":started"] = new() { S = Started } },
            }).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // Another consumer holds the key now, or our done mark did get through: either way it is not ours to release.
        }
        catch (Exception e)
        {
            LogReleaseFailed(key, e.Message);
        }
    }

    private static Dictionary<string, AttributeValue> Key(string key) => new() { [KeyAttribute] = new() { S = key } };

    // Leases are short (half a visibility timeout): whole seconds would cut them by up to a second.
    private static AttributeValue Milliseconds(DateTimeOffset time) => new() { N = time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew the idempotency lease of {Key}: {Reason}")]
    private partial void LogRenewalFailed(string key, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release the idempotency key {Key}; it is free once its lease runs out: {Reason}")]
    private partial void LogReleaseFailed(string key, string reason);
}
