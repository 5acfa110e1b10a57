using System.Collections.Concurrent;
using System.Globalization;
using Amazon.SQS;
using Amazon.SQS.Model;
using Pipeline.Topology;
using Pipeline.Topology.Access;

namespace Services.Dashboard.Reading;

/// <summary>Messages waiting and in flight on a service queue, and waiting in its dead-letter queue (SQS's approximate counts).</summary>
public sealed record QueueDepth(string Queue, long Waiting, long InFlight, long DeadLetters);

/// <summary>The depth of every queue the dashboard's access declaration names: GetQueueAttributes, nothing else.</summary>
public sealed class QueueDepthReader(IAmazonSQS sqs, PipelineTopology topology)
{
    private const string Waiting = "ApproximateNumberOfMessages";
    private const string InFlight = "ApproximateNumberOfMessagesNotVisible";
    private static readonly List<string> Attributes = [Waiting, InFlight];

    private readonly IReadOnlyList<QueueSpec> _queues = new PipelineServices(topology).Dashboard.ReadsQueueDepths;
    private readonly ConcurrentDictionary<string, string> _urls = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<QueueDepth>> ReadAsync(CancellationToken cancellationToken) =>
        await Task.WhenAll(_queues.Select(async queue =>
        {
            var counts = await CountsAsync(queue.Name, cancellationToken).ConfigureAwait(false);
            var deadLetters = await CountsAsync(queue.DeadLetterQueueName, cancellationToken).ConfigureAwait(false);
            return new QueueDepth(queue.Name, counts.GetValueOrDefault(Waiting), counts.GetValueOrDefault(InFlight), deadLetters.GetValueOrDefault(Waiting));
        })).ConfigureAwait(false);

    private async Task<Dictionary<string, long>> CountsAsync(string queueName, CancellationToken cancellationToken)
    {
        if (!_urls.TryGetValue(queueName, out var url))
        {
            url = _urls[queueName] = (await sqs.GetQueueUrlAsync(queueName, cancellationToken).ConfigureAwait(false)).QueueUrl;
        }
        var response = await sqs.GetQueueAttributesAsync(
            new GetQueueAttributesRequest { QueueUrl = url, AttributeNames = Attributes }, cancellationToken).ConfigureAwait(false);
        return (response.Attributes ?? []).ToDictionary(a => a.Key, a => long.Parse(a.Value, CultureInfo.InvariantCulture));
    }
}
