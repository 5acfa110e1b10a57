using System.Collections.Concurrent;

namespace EventBus.Tests.Infrastructure;

/// <summary>What handlers received, for a test to wait on: shared by the hosts of one test.</summary>
public sealed class Received<TMessage>
{
    private readonly ConcurrentQueue<(TMessage Message, MessageContext Context)> _items = new();
    private readonly SemaphoreSlim _arrived = new(0);

    public IReadOnlyList<(TMessage Message, MessageContext Context)> Items => [.. _items];

    public void Add(TMessage message, MessageContext context)
    {
        _items.Enqueue((message, context));
        _arrived.Release();
    }

    /// <summary>Waits until <paramref name="count"/> messages in all arrived; fails the test after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<(TMessage Message, MessageContext Context)>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (_items.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left))
            {
                Assert.Fail($"Expected {count} {typeof(TMessage).Name} messages, got {_items.Count}.");
            }
        }
        return Items;
    }
}

/// <summary>A handler that records what it gets.</summary>
public sealed class RecordingHandler<TMessage>(Received<TMessage> received) : IIntegrationEventHandler<TMessage> where TMessage : class
{
    public Task HandleAsync(TMessage message, MessageContext context, CancellationToken cancellationToken)
    {
        received.Add(message, context);
        return Task.CompletedTask;
    }
}
