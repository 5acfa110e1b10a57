using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;

namespace Pipeline.Storage.Benchmarks;

/// <summary>
/// An HTTP stack for a DynamoDB client that counts its requests by operation (from the <c>X-Amz-Target</c> header) and the
/// capacity units they consume: it asks for <c>ReturnConsumedCapacity: TOTAL</c> on every request and adds up what the
/// answers report (dynalite computes units as DynamoDB does: 1 KB per write unit, 4 KB per strongly consistent read unit,
/// half that for an eventually consistent read; it reports none for a refused conditional write, which AWS charges).
/// </summary>
internal sealed class DynamoDbMeter : HttpClientFactory
{
    private static readonly HashSet<string> Reads = new(["GetItem", "BatchGetItem", "Query", "Scan"], StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, long> _requests = new(StringComparer.Ordinal);
    private long _readMilliUnits;
    private long _writeMilliUnits;
    private long _requestBytes;

    public long Requests => _requests.Values.Sum();

    public long ReadRequests => _requests.Where(r => Reads.Contains(r.Key)).Sum(r => r.Value);

    public long WriteRequests => Requests - ReadRequests;

    public double ReadUnits => Interlocked.Read(ref _readMilliUnits) / 1000.0;

    public double WriteUnits => Interlocked.Read(ref _writeMilliUnits) / 1000.0;

    /// <summary>Bytes of the request bodies (the items written, the keys read).</summary>
    public long RequestBytes => Interlocked.Read(ref _requestBytes);

    public void Clear()
    {
        _requests.Clear();
        Interlocked.Exchange(ref _readMilliUnits, 0);
        Interlocked.Exchange(ref _writeMilliUnits, 0);
        Interlocked.Exchange(ref _requestBytes, 0);
    }

    /// <summary>The requests by operation, most frequent first.</summary>
    public string Describe() => string.Join(", ", _requests.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)
        .Select(c => $"{c.Key} {c.Value}"));

    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Metering(this));

    private void Add(string operation, int bytes, JsonNode? consumed)
    {
        _requests.AddOrUpdate(operation, 1, (_, n) => n + 1);
        Interlocked.Add(ref _requestBytes, bytes);
        // One object for a single-item call, Query and Scan; a list of them (one per table) for the batch calls.
        var units = consumed switch
        {
            JsonArray tables => tables.Sum(t => t?["CapacityUnits"]?.GetValue<double>() ?? 0),
            JsonObject table => table["CapacityUnits"]?.GetValue<double>() ?? 0,
            _ => 0,
        };
        Interlocked.Add(ref Reads.Contains(operation) ? ref _readMilliUnits : ref _writeMilliUnits, (long)Math.Round(units * 1000));
    }

    private sealed class Metering(DynamoDbMeter meter) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var target = request.Headers.TryGetValues("X-Amz-Target", out var values) ? values.First() : request.Method.Method;
            var operation = target[(target.IndexOf('.', StringComparison.Ordinal) + 1)..];
            var bytes = 0;
            if (request.Content is { } content)
            {
                // dynalite does not check signatures, so the body may change after signing.
                var body = JsonNode.Parse(await content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false))!.AsObject();
                body["ReturnConsumedCapacity"] = "TOTAL";
                var text = body.ToJsonString();
                bytes = Encoding.UTF8.GetByteCount(text);
                var metered = new StringContent(text, Encoding.UTF8);
                metered.Headers.ContentType = content.Headers.ContentType;
                request.Content = metered;
            }
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            JsonNode? consumed = null;
            if (response.IsSuccessStatusCode)
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
                consumed = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false))?["ConsumedCapacity"];
            }
            meter.Add(operation, bytes, consumed);
            return response;
        }
    }
}
