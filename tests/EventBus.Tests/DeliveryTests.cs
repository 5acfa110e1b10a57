using System.Collections.Concurrent;
using System.Text.Json;
using Amazon.SQS;
using Amazon.SQS.Model;
using EventBus.AwsSqs;
using EventBus.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EventBus.Tests;

public sealed record Unreliable(int Number);
public sealed record Redriven(int Number);
public sealed record SlowWork(string Name, int Milliseconds);
public sealed record Reservation(string Sku, int Quantity);
public sealed record Note(string Text);
public sealed record Amplify(int Length);
public sealed record Unwanted(int Number);
public sealed record Audited(string Text)
{
    public string Text { get; } = string.IsNullOrEmpty(Text) ? throw new ArgumentException("An audit entry needs a text.", nameof(Text)) : Text;
}

/// <summary>At-least-once delivery: retries, redelivery, dead letters, poison messages, visibility and shutdown.</summary>
public class DeliveryTests(AwsEmulatorFixture aws) : IClassFixture<AwsEmulatorFixture>
{
    /// <summary>Fails while <see cref="Broken"/>, counting attempts by receive count.</summary>
    public sealed class FailingHandler<TMessage> : IIntegrationEventHandler<TMessage> where TMessage : class
    {
        public static readonly ConcurrentQueue<int> Attempts = new();
        public static volatile bool Broken = true;

        public Task HandleAsync(TMessage message, MessageContext context, CancellationToken cancellationToken)
        {
            Attempts.Enqueue(context.ReceiveCount);
            return Broken ? throw new InvalidOperationException($"boom {message}") : Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_failing_handler_is_retried_then_redelivered_then_dead_lettered_with_the_error()
    {
        await using var host = await BusHost.StartAsync(aws, "retry-endpoint",
            bus => bus.AddSubscription<Unreliable, FailingHandler<Unreliable>>(),
            options => { options.MaxReceiveCount = 3; options.ImmediateRetries = 2; });
        using var sqs = aws.CreateSqsClient();
        var deadLetters = new DeadLetterQueue(sqs, "retry-endpoint");

        await host.Bus.PublishAsync(new Unreliable(7));

        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, "retry-endpoint_error") == (1, 0), "one dead letter");
        var letter = Assert.Single(await deadLetters.PeekAsync());
        Assert.Equal(DeadLetterQueue.FaultReason, letter.Reason);
        Assert.Equal("System.InvalidOperationException", letter.ExceptionType);
        Assert.Equal("boom Unreliable { Number = 7 }", letter.ExceptionMessage);
        Assert.NotNull(letter.FaultTime);
        Assert.Equal(EnvelopeSerializer.ContentType, letter.Attributes["Content-Type"]);
        Assert.Equal(7, EnvelopeSerializer.Deserialize(letter.Body).Message!.Value.GetProperty("number").GetInt32());

        // 3 receives, each with the first try and 2 in-process retries; then nothing is left in the queue.
        Assert.Equal([1, 1, 1, 2, 2, 2, 3, 3, 3], FailingHandler<Unreliable>.Attempts);
        Assert.Equal((0, 0), await QueueProbe.CountAsync(sqs, "retry-endpoint"));
    }

    [Fact]
    public async Task Receives_that_never_reach_a_handler_do_not_use_up_its_budget()
    {
        // Receives lost before a handler's end (a consumer killed, a receive answer lost, a delete that failed) are
        // counted by SQS like any other: here two, made by a client that never deletes, on a budget of two receives.
        var received = new Received<Note>();
        void Subscribe(SqsEventBusBuilder bus) => bus.AddSubscription<Note, RecordingHandler<Note>>();
        void Configure(SqsEventBusOptions options) => options.MaxReceiveCount = 2;
        void Services(IServiceCollection services) => services.AddSingleton(received);
        await (await BusHost.StartAsync(aws, "spare-endpoint", Subscribe, Configure, Services)).DisposeAsync();
        using var sqs = aws.CreateSqsClient();
        var url = (await sqs.GetQueueUrlAsync("spare-endpoint")).QueueUrl;
        await QueueProbe.SendAsync(sqs, "spare-endpoint",
            EnvelopeSerializer.Serialize(EnvelopeSerializer.Wrap(new Note("after two lost receives"), Guid.NewGuid(), DateTimeOffset.UtcNow)));
        for (var lost = 1; lost <= 2; lost++)
        {
            var taken = Assert.Single((await sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = url, WaitTimeSeconds = 5 })).Messages ?? []);
            await sqs.ChangeMessageVisibilityAsync(url, taken.ReceiptHandle, 0);
        }

        await using var host = await BusHost.StartAsync(aws, "spare-endpoint", Subscribe, Configure, Services);

        var (message, context) = Assert.Single(await received.WaitForAsync(1));
        Assert.Equal("after two lost receives", message.Text);
        Assert.Equal(3, context.ReceiveCount);
        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, "spare-endpoint") == (0, 0), "the message is deleted");
        Assert.Equal((0, 0), await QueueProbe.CountAsync(sqs, "spare-endpoint_error"));
    }

    [Fact]
    public async Task A_dead_letter_is_redriven_to_its_queue_and_handled()
    {
        await using var host = await BusHost.StartAsync(aws, "redrive-endpoint",
            bus => bus.AddSubscription<Redriven, FailingHandler<Redriven>>(),
            options => { options.MaxReceiveCount = 1; options.ImmediateRetries = 0; });
        using var sqs = aws.CreateSqsClient();
        var deadLetters = new DeadLetterQueue(sqs, "redrive-endpoint");
        await host.Bus.PublishAsync(new Redriven(8));
        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, "redrive-endpoint_error") == (1, 0), "one dead letter");
        Assert.Equal(DeadLetterQueue.FaultReason, Assert.Single(await deadLetters.PeekAsync()).Reason);

        FailingHandler<Redriven>.Broken = false;
        Assert.Equal(1, await deadLetters.RedriveAsync());

        await QueueProbe.EventuallyAsync(() => Task.FromResult(FailingHandler<Redriven>.Attempts.Count == 2), "the redriven message is handled");
        Assert.Equal([1, 1], FailingHandler<Redriven>.Attempts); // back as a new message, with a fresh receive count
        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, "redrive-endpoint") == (0, 0), "the redriven message is deleted");
        Assert.Equal((0, 0), await QueueProbe.CountAsync(sqs, "redrive-endpoint_error"));
        Assert.Empty(await deadLetters.PeekAsync());
    }

    [Fact]
    public async Task Poison_messages_go_to_the_dead_letter_queue_at_once_and_do_not_block_the_queue()
    {
        var received = new Received<Audited>();
        await using var host = await BusHost.StartAsync(aws, "poison-endpoint",
            bus => bus.AddSubscription<Audited, RecordingHandler<Audited>>(), services: s => s.AddSingleton(received));
        using var sqs = aws.CreateSqsClient();
        var unknownType = EnvelopeSerializer.Wrap(new Audited("x"), Guid.NewGuid(), DateTimeOffset.UtcNow);
        unknownType.MessageType = ["urn:message:Somewhere.Else:Unknown"];

        await QueueProbe.SendAsync(sqs, "poison-endpoint", "this is not JSON");
        await QueueProbe.SendAsync(sqs, "poison-endpoint", """{"hello":"a JSON object, but no envelope"}""");
        await QueueProbe.SendAsync(sqs, "poison-endpoint", EnvelopeSerializer.Serialize(unknownType));
        unknownType.MessageType = [null!];
        await QueueProbe.SendAsync(sqs, "poison-endpoint", EnvelopeSerializer.Serialize(unknownType));
        var refused = EnvelopeSerializer.Wrap(new Audited("x"), Guid.NewGuid(), DateTimeOffset.UtcNow);
        refused.Message = JsonSerializer.SerializeToElement(new { text = "" });
        await QueueProbe.SendAsync(sqs, "poison-endpoint", EnvelopeSerializer.Serialize(refused));
        await host.Bus.PublishAsync(new Audited("the good one"));
        // An SNS notification whose attributes are not what SNS writes is still read (the attribute is skipped).
        var good = EnvelopeSerializer.Serialize(EnvelopeSerializer.Wrap(new Audited("wrapped"), Guid.NewGuid(), DateTimeOffset.UtcNow));
        await QueueProbe.SendAsync(sqs, "poison-endpoint", JsonSerializer.Serialize(new
        {
            Type = "Notification",
            TopicArn = "arn:aws:sns:us-east-1:000000000000:elsewhere",
            Message = good,
            MessageAttributes = new { odd = "not an object" },
        }));

        Assert.Equal(["the good one", "wrapped"], (await received.WaitForAsync(2)).Select(r => r.Message.Text).Order());
        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, "poison-endpoint_error") == (5, 0), "five dead letters");
        var letters = await new DeadLetterQueue(sqs, "poison-endpoint").PeekAsync();
        Assert.Equal(5, letters.Count);
        Assert.All(letters, l => Assert.Equal(DeadLetterQueue.PoisonReason, l.Reason));
        Assert.All(letters, l => Assert.Equal(typeof(MessageFormatException).FullName, l.ExceptionType));
        Assert.Contains(letters, l => l.Body == "this is not JSON" && l.ExceptionMessage!.StartsWith("The body is not JSON", StringComparison.Ordinal));
        Assert.Contains(letters, l => l.ExceptionMessage!.Contains("urn:message:Somewhere.Else:Unknown", StringComparison.Ordinal));
        Assert.Contains(letters, l => l.Body.Contains("\"messageType\":[null]", StringComparison.Ordinal)
            && l.ExceptionMessage == "The envelope's 'messageType' has an empty entry; each must be a message type URN.");
        Assert.Contains(letters, l => l.ExceptionMessage == "The message does not fit Audited: An audit entry needs a text. (Parameter 'Text')");
        Assert.Equal((0, 0), await QueueProbe.CountAsync(sqs, "poison-endpoint"));
    }

    [Fact]
    public async Task A_message_beyond_the_size_limit_is_not_published_and_the_exception_says_how_large_it_was()
    {
        var received = new Received<Note>();
        await using var host = await BusHost.StartAsync(
            aws, "large-endpoint", bus => bus.AddSubscription<Note, RecordingHandler<Note>>(), services: s => s.AddSingleton(received));

        var error = await Assert.ThrowsAsync<MessageTooLargeException>(() => host.Bus.PublishAsync(new Note(new string('x', 300_000))));
        // Non-ASCII text: the limit is in bytes on the wire, not in characters.
        await Assert.ThrowsAsync<MessageTooLargeException>(() => host.Bus.PublishAsync(new Note(new string('é', 60_000))));
        await host.Bus.PublishAsync(new Note(new string('x', 250_000)));

        Assert.Matches(
            @"^A Note message of 300,[0-9]{3} bytes cannot be published: at most 262,144 are allowed \(EventBus:MaxMessageBytes\)\.$",
            error.Message);
        Assert.Equal(250_000, Assert.Single(await received.WaitForAsync(1)).Message.Text.Length);
    }

    [Fact]
    public async Task A_queue_the_bus_creates_refuses_to_its_sender_a_message_larger_than_the_topics_deliver()
    {
        await using var host = await BusHost.StartAsync(aws, "sized-endpoint", bus => bus.AddSubscription<Note, RecordingHandler<Note>>(),
            services: s => s.AddSingleton(new Received<Note>()));
        using var sqs = aws.CreateSqsClient();

        var error = await Assert.ThrowsAnyAsync<Amazon.SQS.AmazonSQSException>(() => QueueProbe.SendAsync(sqs, "sized-endpoint", new string('x', 300_000)));

        Assert.Contains("262144", error.Message, StringComparison.Ordinal);
        Assert.Equal((0, 0), await QueueProbe.CountAsync(sqs, "sized-endpoint"));
    }

    [Fact]
    public async Task A_received_message_beyond_the_size_limit_or_nested_too_deep_is_poison_with_the_reason()
    {
        var received = new Received<Note>();
        using var sqs = aws.CreateSqsClient();
        // A queue made by hand keeps SQS's own limit (1 MiB), so anyone allowed to send to it can send more than the topics deliver.
        await sqs.CreateQueueAsync("oversized-endpoint");
        await using var host = await BusHost.StartAsync(aws, "oversized-endpoint", bus => bus.AddSubscription<Note, RecordingHandler<Note>>(),
            options => options.MaxMessageBytes = 100_000, services: s => s.AddSingleton(received));
        var oversized = EnvelopeSerializer.Serialize(EnvelopeSerializer.Wrap(new Note(new string('x', 200_000)), Guid.NewGuid(), DateTimeOffset.UtcNow));
        var nested = EnvelopeSerializer.Serialize(EnvelopeSerializer.Wrap(new Note("deep"), Guid.NewGuid(), DateTimeOffset.UtcNow))
            .Replace("\"headers\":{}", "\"headers\":{\"deep\":" + new string('[', 5_000) + new string(']', 5_000) + "}", StringComparison.Ordinal);

        await QueueProbe.SendAsync(sqs, "oversized-endpoint", oversized);
        await QueueProbe.SendAsync(sqs, "oversized-endpoint", nested);
        await host.Bus.PublishAsync(new Note("fits"));

        Assert.Equal("fits", Assert.Single(await received.WaitForAsync(1)).Message.Text);
        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, "oversized-endpoint_error") == (2, 0), "two dead letters");
        var letters = await new DeadLetterQueue(sqs, "oversized-endpoint").PeekAsync();
        Assert.All(letters, l => Assert.Equal((DeadLetterQueue.PoisonReason, typeof(MessageFormatException).FullName), (l.Reason, l.ExceptionType)));
        Assert.Contains(letters, l => l.Body == oversized
            && l.ExceptionMessage == $"The message is {oversized.Length:N0} bytes; at most 100,000 are allowed (EventBus:MaxMessageBytes).");
        Assert.Contains(letters, l => l.Body == nested && l.ExceptionMessage!.StartsWith("The body is not JSON", StringComparison.Ordinal));
    }

    /// <summary>Answers each request with a note of the length asked for.</summary>
    public sealed class AmplifyingHandler(IEventBus bus) : IIntegrationEventHandler<Amplify>
    {
        public static readonly ConcurrentQueue<int> Attempts = new();

        public Task HandleAsync(Amplify message, MessageContext context, CancellationToken cancellationToken)
        {
            Attempts.Enqueue(context.ReceiveCount);
            return bus.PublishAsync(new Note(new string('x', message.Length)), cancellationToken);
        }
    }

    [Fact]
    public async Task A_handler_whose_answer_would_be_too_large_has_its_message_dead_lettered_at_once_naming_the_limit()
    {
        await using var host = await BusHost.StartAsync(aws, "amplifying-endpoint", bus => bus.AddSubscription<Amplify, AmplifyingHandler>());
        using var sqs = aws.CreateSqsClient();

        await host.Bus.PublishAsync(new Amplify(1_000_000));

        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, "amplifying-endpoint_error") == (1, 0), "one dead letter");
        var letter = Assert.Single(await new DeadLetterQueue(sqs, "amplifying-endpoint").PeekAsync());
        Assert.Equal((DeadLetterQueue.PoisonReason, typeof(MessageTooLargeException).FullName), (letter.Reason, letter.ExceptionType));
        Assert.Contains("at most 262,144 are allowed (EventBus:MaxMessageBytes)", letter.ExceptionMessage, StringComparison.Ordinal);
        Assert.Equal([1], AmplifyingHandler.Attempts);
    }

    /// <summary>Refuses every reservation as poison, counting attempts by receive count.</summary>
    public sealed class RefusingHandler : IIntegrationEventHandler<Reservation>
    {
        public static readonly ConcurrentQueue<int> Attempts = new();

        public Task HandleAsync(Reservation message, MessageContext context, CancellationToken cancellationToken)
        {
            Attempts.Enqueue(context.ReceiveCount);
            throw new PoisonMessageException($"{message.Sku} cannot be reserved {message.Quantity} times.");
        }
    }

    [Fact]
    public async Task A_message_its_handler_refuses_as_poison_is_dead_lettered_at_once_with_the_reason()
    {
        await using var host = await BusHost.StartAsync(aws, "refusing-endpoint", bus => bus.AddSubscription<Reservation, RefusingHandler>());
        using var sqs = aws.CreateSqsClient();

        await host.Bus.PublishAsync(new Reservation("SKU-1", -2));

        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, "refusing-endpoint_error") == (1, 0), "one dead letter");
        var letter = Assert.Single(await new DeadLetterQueue(sqs, "refusing-endpoint").PeekAsync());
        Assert.Equal(DeadLetterQueue.PoisonReason, letter.Reason);
        Assert.Equal(typeof(PoisonMessageException).FullName, letter.ExceptionType);
        Assert.Equal("SKU-1 cannot be reserved -2 times.", letter.ExceptionMessage);
        // Neither retried in process nor redelivered.
        Assert.Equal([1], RefusingHandler.Attempts);
        Assert.Equal((0, 0), await QueueProbe.CountAsync(sqs, "refusing-endpoint"));
    }

    /// <summary>Refuses every message as poison, counting them.</summary>
    public sealed class UnwantedHandler : IIntegrationEventHandler<Unwanted>
    {
        public static int Handled;

        public Task HandleAsync(Unwanted message, MessageContext context, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Handled);
            throw new PoisonMessageException($"{message.Number} is never wanted.");
        }
    }

    [Fact]
    public async Task A_redrive_moves_only_the_letters_there_when_it_began_so_a_poison_message_is_not_moved_round_and_round()
    {
        await using var host = await BusHost.StartAsync(aws, "unwanted-endpoint", bus => bus.AddSubscription<Unwanted, UnwantedHandler>());
        using var sqs = aws.CreateSqsClient();
        var deadLetters = new DeadLetterQueue(sqs, "unwanted-endpoint");
        await host.Bus.PublishAsync(new Unwanted(1));
        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, "unwanted-endpoint_error") == (1, 0), "one dead letter");

        // Back in the queue, it is refused at once again: a new letter, which this redrive leaves alone.
        var moved = await deadLetters.RedriveAsync();
        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, "unwanted-endpoint_error") == (1, 0), "the letter back");

        Assert.Equal(1, moved);
        Assert.Equal(2, UnwantedHandler.Handled);
        Assert.Equal("1 is never wanted.", Assert.Single(await deadLetters.PeekAsync()).ExceptionMessage);
    }

    [Fact]
    public async Task A_move_cut_between_its_send_and_its_delete_leaves_two_letters_that_stand_for_one_message()
    {
        using var sqs = aws.CreateSqsClient();
        var url = (await sqs.CreateQueueAsync("cut-move-endpoint")).QueueUrl;
        var deadUrl = (await sqs.CreateQueueAsync("cut-move-endpoint_error")).QueueUrl;
        var queue = new EndpointQueue("cut-move-endpoint", url, "arn:aws:sqs:us-east-1:000000000000:cut-move-endpoint", deadUrl, TimeSpan.FromSeconds(1), 5);
        var sent = await sqs.SendMessageAsync(new SendMessageRequest(url, "never handled"));
        var error = new PoisonMessageException("never wanted");

        // The first move sends its letter, then the process dies before the delete: the original comes back and is moved again.
        var first = await ReceiveOneAsync(sqs, url);
        try
        {
            await DeadLetterQueue.MoveAsync(sqs, queue, CutAfterSend(first), DeadLetterQueue.PoisonReason, error, CancellationToken.None);
        }
        catch (AmazonSQSException)
        {
            // The delete that never happened (SQS may refuse the handle or ignore it; either way the original stays).
        }
        await DeadLetterQueue.MoveAsync(sqs, queue, await ReceiveOneAsync(sqs, url), DeadLetterQueue.PoisonReason, error, CancellationToken.None);

        var letters = await new DeadLetterQueue(sqs, "cut-move-endpoint").PeekAsync();
        Assert.Equal(2, letters.Select(l => l.MessageId).Distinct().Count());
        Assert.All(letters, l => Assert.Equal((sent.MessageId, sent.MessageId), (l.OriginalMessageId, l.Identity)));
        Assert.Equal((0, 0), await QueueProbe.CountAsync(sqs, "cut-move-endpoint"));

        // Redriven, each is a new message: if it dies again, that is a new letter, not one of these.
        Assert.Equal(2, await new DeadLetterQueue(sqs, "cut-move-endpoint").RedriveAsync());
        var back = await ReceiveOneAsync(sqs, url);
        Assert.DoesNotContain(DeadLetterQueue.OriginalMessageIdAttribute, (back.MessageAttributes ?? []).Keys);
        Assert.NotEqual(sent.MessageId, back.MessageId);
    }

    private static async Task<Message> ReceiveOneAsync(IAmazonSQS sqs, string url)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var response = await sqs.ReceiveMessageAsync(
                new ReceiveMessageRequest(url) { WaitTimeSeconds = 1, VisibilityTimeout = 1, MessageAttributeNames = ["All"] });
            if (response.Messages is [var message, ..])
            {
                return message;
            }
        }
        throw new TimeoutException($"nothing to receive from {url}");
    }

    /// <summary>The received message as a move sees it when its delete never happens: a receipt handle that deletes nothing.</summary>
    private static Message CutAfterSend(Message received) => new()
    {
        MessageId = received.MessageId,
        Body = received.Body,
        MessageAttributes = received.MessageAttributes,
        ReceiptHandle = "cut-before-the-delete",
    };

    /// <summary>Records when each message starts and ends, and takes its time.</summary>
    public sealed class SlowHandler : IIntegrationEventHandler<SlowWork>
    {
        public static readonly ConcurrentQueue<(string Queue, string Name, int ReceiveCount)> Started = new();
        public static readonly ConcurrentQueue<(string Queue, string Name)> Finished = new();

        public async Task HandleAsync(SlowWork message, MessageContext context, CancellationToken cancellationToken)
        {
            Started.Enqueue((context.Endpoint, message.Name, context.ReceiveCount));
            await Task.Delay(message.Milliseconds, cancellationToken);
            Finished.Enqueue((context.Endpoint, message.Name));
        }

        public static int Count(IEnumerable<(string Queue, string Name)> items, string queue) => items.Count(i => i.Queue == queue);
    }

    [Fact]
    public async Task A_handler_running_longer_than_the_visibility_timeout_is_not_delivered_twice()
    {
        const string queue = "long-work";
        Action<SqsEventBusOptions> options = o => { o.VisibilityTimeout = TimeSpan.FromSeconds(2); o.MaxConcurrency = 1; };
        // Two competing consumers: without the extension the second would take the message after 2 s.
        await using var first = await BusHost.StartAsync(aws, queue, bus => bus.AddSubscription<SlowWork, SlowHandler>(), options);
        await using var second = await BusHost.StartAsync(aws, queue, bus => bus.AddSubscription<SlowWork, SlowHandler>(), options);
        using var sqs = aws.CreateSqsClient();

        await first.Bus.PublishAsync(new SlowWork("report", 4500));

        await QueueProbe.EventuallyAsync(() => Task.FromResult(SlowHandler.Finished.Any(f => f.Queue == queue)), "the long handler finishes");
        Assert.Single(SlowHandler.Started, s => s.Queue == queue);
        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, queue) == (0, 0), "the message is deleted");
    }

    [Fact]
    public async Task Graceful_shutdown_finishes_in_flight_messages_and_loses_nothing()
    {
        const string queue = "shutdown-drain";
        Action<SqsEventBusOptions> options = o => { o.VisibilityTimeout = TimeSpan.FromSeconds(3); o.MaxConcurrency = 4; };
        var first = await BusHost.StartAsync(aws, queue, bus => bus.AddSubscription<SlowWork, SlowHandler>(), options);
        for (var i = 0; i < 12; i++)
        {
            await first.Bus.PublishAsync(new SlowWork($"job-{i}", 400));
        }
        await QueueProbe.EventuallyAsync(() => Task.FromResult(SlowHandler.Started.Any(s => s.Queue == queue)), "work starts");

        await first.DisposeAsync();

        // Everything the first instance started, it finished before stopping.
        Assert.Equal(SlowHandler.Count(SlowHandler.Started.Select(s => (s.Queue, s.Name)), queue), SlowHandler.Count(SlowHandler.Finished, queue));
        await using var second = await BusHost.StartAsync(aws, queue, bus => bus.AddSubscription<SlowWork, SlowHandler>(), options);
        await QueueProbe.EventuallyAsync(
            () => Task.FromResult(SlowHandler.Finished.Where(f => f.Queue == queue).Select(f => f.Name).Distinct().Count() == 12),
            "all 12 jobs are done by one instance or the other");
        using var sqs = aws.CreateSqsClient();
        await QueueProbe.EventuallyAsync(async () => await QueueProbe.CountAsync(sqs, queue) == (0, 0), "every job is deleted");
    }

    [Fact]
    public async Task The_host_gives_the_bus_its_whole_drain_even_when_its_own_shutdown_timeout_is_shorter()
    {
        const string queue = "shutdown-host-deadline";
        // The host's default deadline (30 s) against the bus's drain (30 s), scaled down: the host would give up first.
        var first = await BusHost.StartAsync(aws, queue, bus => bus.AddSubscription<SlowWork, SlowHandler>(),
            options => options.ShutdownTimeout = TimeSpan.FromSeconds(10),
            services => services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(1)));
        await first.Bus.PublishAsync(new SlowWork("finishing", 2500));
        await QueueProbe.EventuallyAsync(() => Task.FromResult(SlowHandler.Started.Any(s => s.Queue == queue)), "work starts");

        var hostDeadline = first.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;
        await first.DisposeAsync();

        Assert.Single(SlowHandler.Finished, f => f.Queue == queue);
        using var sqs = aws.CreateSqsClient();
        Assert.Equal((0, 0), await QueueProbe.CountAsync(sqs, queue));
        Assert.True(hostDeadline > TimeSpan.FromSeconds(10), $"The host's shutdown timeout is {hostDeadline}.");
    }

    [Fact]
    public async Task At_the_shutdown_deadline_unfinished_messages_are_released_for_another_instance()
    {
        const string queue = "shutdown-release";
        // A visibility timeout of a minute: the message can only come back this soon if it was released.
        Action<SqsEventBusOptions> options = o => { o.VisibilityTimeout = TimeSpan.FromSeconds(60); o.ShutdownTimeout = TimeSpan.FromMilliseconds(200); };
        var first = await BusHost.StartAsync(aws, queue, bus => bus.AddSubscription<SlowWork, SlowHandler>(), options);
        await first.Bus.PublishAsync(new SlowWork("endless", 600_000));
        await QueueProbe.EventuallyAsync(() => Task.FromResult(SlowHandler.Started.Any(s => s.Queue == queue)), "work starts");

        await first.DisposeAsync();

        await using var second = await BusHost.StartAsync(aws, queue, bus => bus.AddSubscription<SlowWork, SlowHandler>(), options);
        await QueueProbe.EventuallyAsync(
            () => Task.FromResult(SlowHandler.Started.Count(s => s.Queue == queue) == 2), "the released message is delivered again");
        Assert.Equal([1, 2], SlowHandler.Started.Where(s => s.Queue == queue).Select(s => s.ReceiveCount));
        Assert.Equal(0, SlowHandler.Count(SlowHandler.Finished, queue));
    }
}
