using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

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
/// A key is claimed first (a lease of <see cref="Lease"/>), and marked done after the work succeeded. A consumer that
/// dies keeps the key until the lease runs out, then another may claim it; work that fails releases it at once.
/// The work itself must tolerate a rerun after a crash between its end and the done mark (at-least-once, like SQS).
/// The table has a string partition key <c>id</c>; <c>expires_at</c> (epoch seconds) suits a DynamoDB TTL.
/// </remarks>
public sealed class IdempotencyStore(IAmazonDynamoDB dynamoDb, string tableName)
{
    public const string KeyAttribute = "id";
    private const string Started = "started";
    private const string Done = "done";

    public string TableName { get; } = tableName;

    /// <summary>How long a claim holds before another consumer may take the key over.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a done mark is kept (written as <c>expires_at</c>).</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Runs <paramref name="work"/> unless <paramref name="key"/> is already done; marks it done when the work succeeds.</summary>
    /// <exception cref="IdempotencyConflictException">Another consumer holds the key now.</exception>
    public async Task<IdempotencyOutcome> RunOnceAsync(string key, Func<CancellationToken, Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var owner = Guid.NewGuid().ToString("N");
        if (!await TryClaimAsync(key, owner, cancellationToken).ConfigureAwait(false))
        {
            return await IsDoneAsync(key, cancellationToken).ConfigureAwait(false)
                ? IdempotencyOutcome.AlreadyDone
                : throw new IdempotencyConflictException(key);
        }

        try
        {
            await work(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await ReleaseAsync(key, owner).ConfigureAwait(false);
            throw;
        }
        await MarkDoneAsync(key, owner, cancellationToken).ConfigureAwait(false);
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

    private async Task<bool> TryClaimAsync(string key, string owner, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        try
        {
            await dynamoDb.PutItemAsync(new PutItemRequest
            {
                TableName = TableName,
                Item = new Dictionary<string, AttributeValue>(Key(key))
                {
                    ["status"] = new() { S = Started },
                    ["owner"] = new() { S = owner },
                    ["lease_until"] = Number(now + Lease),
                    ["expires_at"] = Number(now + Retention),
                },
                // New, or claimed by a consumer whose lease ran out; never over a done mark.
                ConditionExpression = "attribute_not_exists(#id) OR (#status = :started AND lease_until < :now)",
                ExpressionAttributeNames = new() { ["#id"] = KeyAttribute, ["#status"] = "status" },
                ExpressionAttributeValues = new() { [":started"] = new() { S = Started }, [":now"] = Number(now) },
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    private async Task MarkDoneAsync(string key, string owner, CancellationToken cancellationToken)
    {
        try
        {
            await dynamoDb.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = TableName,
                Key = Key(key),
                UpdateExpression = "SET #status = :done, done_at = :now REMOVE lease_until",
                ConditionExpression = "#owner = :owner",
                ExpressionAttributeNames = new() { ["#status"] = "status", ["#owner"] = "owner" },
                ExpressionAttributeValues = new()
                {
                    [":done"] = new() { S = Done },
                    [":now"] = new() { S = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture) },
                    [":owner"] = new() { S = owner },
                },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // Our lease ran out and another consumer took the key over: let the delivery fail and be redelivered.
            throw new IdempotencyConflictException(key);
        }
    }

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
            // Our lease ran out and someone else holds the key now: it is theirs to finish.
        }
    }

    private static Dictionary<string, AttributeValue> Key(string key) => new() { [KeyAttribute] = new() { S = key } };

    private static AttributeValue Number(DateTimeOffset time) => new() { N = time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) };
}
