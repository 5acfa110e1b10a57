using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Amazon.Runtime;

namespace Pipeline.Storage.Tests;

/// <summary>
/// An HTTP stack that counts DynamoDB requests by operation (the X-Amz-Target header) and adds up the read and write
/// capacity the answers report (when a request asked for it), and the largest item a PutItem or UpdateItem sent.
/// </summary>
internal sealed class DynamoRequestCounter : HttpClientFactory
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private double _capacity;
    private int _largestWrite;

    public int Of(string operation) => _counts.GetValueOrDefault(operation);

    public int Total => _counts.Values.Sum();

    /// <summary>Capacity units the answers reported since the last <see cref="Clear"/>.</summary>
    public double CapacityUnits => Volatile.Read(ref _capacity);

    /// <summary>The largest PutItem or UpdateItem request body sent since the last <see cref="Clear"/>, in bytes (an item's JSON, with its key and expressions).</summary>
    public int LargestWriteBytes => Volatile.Read(ref _largestWrite);

    public string Describe() => string.Join(", ", _counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"));

    public void Clear()
    {
        _counts.Clear();
        Volatile.Write(ref _capacity, 0);
        Volatile.Write(ref _largestWrite, 0);
    }

    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Handler(this));

    private void Add(double units)
    {
        double seen, sum;
        do
        {
            seen = Volatile.Read(ref _capacity);
            sum = seen + units;
        }
        while (Interlocked.CompareExchange(ref _capacity, sum, seen) != seen);
    }

    private static double CapacityIn(JsonElement answer) => answer.TryGetProperty("ConsumedCapacity", out var consumed)
        ? consumed.ValueKind == JsonValueKind.Array ? consumed.EnumerateArray().Sum(Units) : Units(consumed)
        : 0;

    private static double Units(JsonElement consumed) =>
        consumed.TryGetProperty("CapacityUnits", out var units) ? units.GetDouble() : 0;

    private sealed class Handler(DynamoRequestCounter counter) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var operation = request.Headers.TryGetValues("X-Amz-Target", out var target) ? target.Single().Split('.')[^1] : request.Method.Method;
            counter._counts.AddOrUpdate(operation, 1, (_, n) => n + 1);
            if (operation is "PutItem" or "UpdateItem" && request.Content is { } body)
            {
                var size = (await body.ReadAsByteArrayAsync(cancellationToken)).Length;
                int seen;
                while (size > (seen = Volatile.Read(ref counter._largestWrite))
                       && Interlocked.CompareExchange(ref counter._largestWrite, size, seen) != seen)
                {
                }
            }
            var response = await base.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                if (answer.RootElement.ValueKind == JsonValueKind.Object)
                {
                    counter.Add(CapacityIn(answer.RootElement));
                }
            }
            return response;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Total} requests ({Describe()}), {CapacityUnits:0.#} capacity units");
}
