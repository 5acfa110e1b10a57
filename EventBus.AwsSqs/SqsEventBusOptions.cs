namespace EventBus.AwsSqs;

/// <summary>What the bus does about its queues, topics and subscriptions when it starts.</summary>
public enum TopologyMode
{
    /// <summary>Create what is missing (idempotent); existing queues keep their settings.</summary>
    Ensure,

    /// <summary>Only check that everything exists and is wired, and fail the start otherwise (provisioning is external).</summary>
    Verify,
}

/// <summary>The settings of one service's bus: its endpoint queue, how it receives, retries and shuts down.</summary>
public sealed class SqsEventBusOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string SectionName = "EventBus";

    /// <summary>The endpoint's queue; the endpoint name when not set. Its dead-letter queue is <c>{QueueName}_error</c>.</summary>
    public string? QueueName { get; set; }

    /// <summary>
    /// The scope of the topics, as MassTransit's <c>Scope(scope, scopeTopics: true)</c>: each message type's topic is
    /// <c>{TopicScope}_{entity name}</c> (<c>staging_Pipeline_Contracts-BatchSubmitted</c>); the entity name alone when not set.
    /// </summary>
    public string? TopicScope { get; set; }

    public TopologyMode Topology { get; set; } = TopologyMode.Ensure;

    /// <summary>
    /// The receive on which a message whose handler fails is dead-lettered with its error (at most the queue's redrive
    /// <c>maxReceiveCount</c>, for a queue made elsewhere).
    /// </summary>
    public int MaxReceiveCount { get; set; } = 5;

    /// <summary>
    /// Receives beyond <see cref="MaxReceiveCount"/> before SQS's own redrive moves a message, for queues the bus creates.
    /// SQS counts every receive, also one that never reached a handler's end (a consumer killed, a receive answer lost, a
    /// delete that failed): without a spare, such receives use up the handler's budget and SQS dead-letters the message
    /// on a receive the bus never handled, without its error.
    /// </summary>
    public int SpareReceives { get; set; } = 5;

    /// <summary>The visibility timeout of queues the bus creates; existing queues keep theirs.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many messages each receiving queue handles at once.</summary>
    public int MaxConcurrency { get; set; } = 8;

    /// <summary>
    /// How long one receive call waits for messages (long polling, at most 20 s). A stop waits for the call under way,
    /// so this also bounds how long stopping takes beyond the in-flight handlers.
    /// </summary>
    public TimeSpan WaitTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>In-process retries of a failed handler before the delivery counts as failed.</summary>
    public int ImmediateRetries { get; set; } = 3;

    /// <summary>The wait before the first in-process retry; it doubles with each further retry.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a failed message stays invisible before its next delivery, doubled with each receive (5, 10, 20, 40 s).</summary>
    public TimeSpan RedeliveryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// At stop, how long in-flight handlers may run on; after that they are cancelled and their messages released. The
    /// host's own shutdown timeout is raised to <see cref="HostShutdownTimeout"/> if it is shorter, so this is the one setting.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest message, envelope and attributes together, in bytes: what one SNS publish carries (256 KiB), and so the
    /// largest message the topics can deliver. A publish beyond it fails before it is sent
    /// (<see cref="MessageTooLargeException"/>); a received envelope beyond it (sent to the queue by other means) is poison.
    /// </summary>
    public int MaxMessageBytes { get; set; } = SnsMaxMessageBytes;

    /// <summary>What SNS accepts in one publish.</summary>
    public const int SnsMaxMessageBytes = 256 * 1024;

    /// <summary>How often the queue backlog (the <c>eventbus.queue.backlog</c> metric) is read.</summary>
    public TimeSpan BacklogInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the bus waits for the receive under way beyond its long poll, and for a message's release.</summary>
    internal static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest a stop of the bus takes: the handlers' deadline (or the receive under way, if that ends later), then
    /// releasing what the cancelled handlers held, then a margin for the last deletes. 40 s with the defaults.
    /// </summary>
    internal TimeSpan HostShutdownTimeout =>
        (ShutdownTimeout > WaitTime + ReleaseTimeout ? ShutdownTimeout : WaitTime + ReleaseTimeout) + ReleaseTimeout + ReleaseTimeout;

    internal void Validate()
    {
        if (MaxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(MaxConcurrency), MaxConcurrency, "must be at least 1");
        if (MaxReceiveCount < 1) throw new ArgumentOutOfRangeException(nameof(MaxReceiveCount), MaxReceiveCount, "must be at least 1");
        if (SpareReceives < 0 || MaxReceiveCount + SpareReceives > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(SpareReceives), SpareReceives, "must be at least 0, and with MaxReceiveCount at most SQS's 1000");
        }
        if (ImmediateRetries < 0) throw new ArgumentOutOfRangeException(nameof(ImmediateRetries), ImmediateRetries, "must not be negative");
        if (MaxMessageBytes is < 1024 or > SnsMaxMessageBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxMessageBytes), MaxMessageBytes, $"must be 1,024 to {SnsMaxMessageBytes:N0} bytes");
        }
        if (WaitTime < TimeSpan.Zero || WaitTime > TimeSpan.FromSeconds(20))
        {
            throw new ArgumentOutOfRangeException(nameof(WaitTime), WaitTime, "must be 0 to 20 s");
        }
    }
}
