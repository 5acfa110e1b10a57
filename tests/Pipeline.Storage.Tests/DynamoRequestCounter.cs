using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Amazon.Runtime;

namespace Pipeline.Storage.Tests;

/// <summary>
/// An HTTP stack that counts DynamoDB requests by operation (the X-Amz-Target header) and adds up the read and write
/// capacity the answers report (when a request asked for it), and the largest item an answer held.
/// </summary>
internal sealed class DynamoRequestCounter : HttpClientFactory
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private double _capacity;
    private int _largestItem;
    private int _itemsRead;

    public int Of(string operation) => _counts.GetValueOrDefault(operation);

    public int Total => _counts.Values.Sum();

    /// <summary>Capacity units the answers reported since the last <see cref="Clear"/>.</summary>
    public double CapacityUnits => Volatile.Read(ref _capacity);

    /// <summary>
    /// The largest item an answer held since the last <see cref="Clear"/> (a GetItem's, a Query's, an UpdateItem's new
    /// image), in bytes of its JSON: more than DynamoDB's own measure of the item, which counts no type tags or quotes.
    /// </summary>
    public int LargestItemBytes => Volatile.Read(ref _largestItem);

    /// <summary>Items the answers held since the last <see cref="Clear"/>.</summary>
    public int ItemsRead => Volatile.Read(ref _itemsRead);

    public string Describe() => string.Join(", ", _counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"));

    public void Clear()
    {
        _counts.Clear();
        Volatile.Write(ref _capacity, 0);
        Volatile.Write(ref _largestItem, 0);
        Volatile.Write(ref _itemsRead, 0);
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

    private void Saw(IEnumerable<JsonElement> items)
    {
        foreach (var size in items.Select(i => i.GetRawText().Length))
        {
            Interlocked.Increment(ref _itemsRead);
            int seen;
            while (size > (seen = Volatile.Read(ref _largestItem)) && Interlocked.CompareExchange(ref _largestItem, size, seen) != seen)
            {
            }
        }
    }

    private static IEnumerable<JsonElement> ItemsIn(JsonElement answer) =>
        (answer.TryGetProperty("Items", out var items) ? items.EnumerateArray().ToList() : [])
        .Concat(new[] { "Item", "Attributes" }.Select(name => answer.TryGetProperty(name, out var item) ? item : default)
            .Where(item => item.ValueKind == JsonValueKind.Object));

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
            var response = await base.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                if (answer.RootElement.ValueKind == JsonValueKind.Object)
                {
                    counter.Add(CapacityIn(answer.RootElement));
                    counter.Saw(ItemsIn(answer.RootElement));
                }
            }
            return response;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Total} requests ({Describe()}), {CapacityUnits:0.#} capacity units");
}
