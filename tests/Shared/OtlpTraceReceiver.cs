using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pipeline.Testing;

/// <summary>One span as an OTLP exporter sent it: ids in lowercase hex, the service that sent it, its attributes as text.</summary>
public sealed record ReceivedSpan(
    string Service, string Scope, string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind,
    DateTimeOffset Start, DateTimeOffset End, IReadOnlyDictionary<string, string> Attributes, DateTimeOffset ReceivedAt)
{
    public TimeSpan Duration => End - Start;

    public string? this[string attribute] => Attributes.GetValueOrDefault(attribute);

    public bool IsRoot => ParentSpanId is null;

    public override string ToString() =>
        $"{Service}: {Name} ({Duration.TotalMilliseconds:F0} ms, trace {TraceId[..8]}, span {SpanId[..8]}, parent {ParentSpanId?[..8] ?? "none"})";
}

/// <summary>
/// An OTLP/HTTP trace receiver on 127.0.0.1 (protobuf, <c>POST /v1/traces</c>), for tests and benchmarks that read the
/// spans the services and the command line export, as the Aspire dashboard would get them. Point an exporter at
/// <see cref="Endpoint"/> with <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>.
/// </summary>
public sealed class OtlpTraceReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly Task _serving;

    private OtlpTraceReceiver(HttpListener listener, Uri endpoint)
    {
        _listener = listener;
        Endpoint = endpoint;
        _serving = Task.Run(ServeAsync);
    }

    public Uri Endpoint { get; }

    public IReadOnlyCollection<ReceivedSpan> Spans => _spans;

    /// <summary>The environment an OTLP exporter needs to send here (also quickly: batches every 200 ms).</summary>
    public IReadOnlyDictionary<string, string> ExporterEnvironment => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
    };

    public static OtlpTraceReceiver Start()
    {
        for (var attempt = 0; ; attempt++)
        {
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                var port = ((IPEndPoint)probe.LocalEndpoint).Port;
                probe.Stop();
                var listener = new HttpListener();
                var endpoint = new Uri($"http://127.0.0.1:{port}/");
                listener.Prefixes.Add(endpoint.ToString());
                try
                {
                    listener.Start();
                    return new OtlpTraceReceiver(listener, endpoint);
                }
                catch (HttpListenerException) when (attempt < 5)
                {
                    listener.Close();
                }
            }
        }
    }

    /// <summary>Waits until <paramref name="done"/> holds for the spans received so far; returns them.</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> WaitForAsync(Func<IReadOnlyList<ReceivedSpan>, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var spans = _spans.ToList();
            if (done(spans))
            {
                return spans;
            }
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"Not within {timeout.TotalSeconds:F0} s: {what}. {spans.Count} spans received, the last:\n" +
                    $"{string.Join('\n', spans.TakeLast(40))}");
            }
            await Task.Delay(200);
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                continue;
            }
            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                if (context.Request.Url?.AbsolutePath == "/v1/traces")
                {
                    var received = DateTimeOffset.UtcNow;
                    foreach (var span in OtlpProtobuf.ReadTraces(body.ToArray(), received))
                    {
                        _spans.Enqueue(span);
                    }
                }
                // An empty ExportTraceServiceResponse: everything accepted (metrics and logs are accepted and dropped).
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.ContentLength64 = 0;
            }
            catch (Exception)
            {
                context.Response.StatusCode = 400;
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving.ConfigureAwait(false);
    }
}

/// <summary>
/// Reads an OTLP <c>ExportTraceServiceRequest</c> (protobuf): resource spans → resource attributes (service.name) and
/// scope spans → spans (ids, parent, name, kind, times, attributes). Only the fields these tests read.
/// </summary>
internal static class OtlpProtobuf
{
    public static IEnumerable<ReceivedSpan> ReadTraces(byte[] message, DateTimeOffset receivedAt)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var (field, resourceSpans) in Fields(message))
        {
            if (field != 1)
            {
                continue;
            }
            var service = "";
            foreach (var (f, value) in Fields(resourceSpans.Bytes))
            {
                if (f == 1)
                {
                    // Resource { repeated KeyValue attributes = 1 }
                    var attributes = Fields(value.Bytes).Where(a => a.Field == 1).Select(a => KeyValue(a.Value.Bytes)).ToDictionary(a => a.Key, a => a.Value);
                    service = attributes.GetValueOrDefault("service.name", "");
                }
            }
            foreach (var (f, scopeSpans) in Fields(resourceSpans.Bytes))
            {
                if (f != 2)
                {
                    continue;
                }
                var scope = "";
                foreach (var (g, value) in Fields(scopeSpans.Bytes))
                {
                    if (g == 1)
                    {
                        scope = Fields(value.Bytes).Where(s => s.Field == 1).Select(s => s.Value.Text).FirstOrDefault() ?? "";
                    }
                    else if (g == 2)
                    {
                        spans.Add(Span(service, scope, value.Bytes, receivedAt));
                    }
                }
            }
        }
        return spans;
    }

    private static ReceivedSpan Span(string service, string scope, ReadOnlyMemory<byte> span, DateTimeOffset receivedAt)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null;
        var kind = 0;
        ulong start = 0, end = 0;
        var attributes = new Dictionary<string, string>();
        foreach (var (field, value) in Fields(span))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value.Bytes.Span); break;
                case 2: spanId = Convert.ToHexStringLower(value.Bytes.Span); break;
                case 4: parent = value.Bytes.Length == 0 ? null : Convert.ToHexStringLower(value.Bytes.Span); break;
                case 5: name = value.Text; break;
                case 6: kind = (int)value.Number; break;
                case 7: start = value.Number; break;
                case 8: end = value.Number; break;
                case 9:
                    var (key, text) = KeyValue(value.Bytes);
                    attributes[key] = text;
                    break;
            }
        }
        return new ReceivedSpan(
            service, scope, traceId, spanId, parent, name, kind, FromUnixNanoseconds(start), FromUnixNanoseconds(end), attributes, receivedAt);
    }

    private static DateTimeOffset FromUnixNanoseconds(ulong nanoseconds) => DateTimeOffset.UnixEpoch.AddTicks((long)(nanoseconds / 100));

    /// <summary>KeyValue { string key = 1; AnyValue value = 2 }, the value as text (arrays joined with ',').</summary>
    private static (string Key, string Value) KeyValue(ReadOnlyMemory<byte> keyValue)
    {
        string key = "", text = "";
        foreach (var (field, value) in Fields(keyValue))
        {
            if (field == 1)
            {
                key = value.Text;
            }
            else if (field == 2)
            {
                text = AnyValue(value.Bytes);
            }
        }
        return (key, text);
    }

    /// <summary>AnyValue: string 1, bool 2, int 3, double 4, array 5 (ArrayValue { repeated AnyValue values = 1 }).</summary>
    private static string AnyValue(ReadOnlyMemory<byte> anyValue)
    {
        foreach (var (field, value) in Fields(anyValue))
        {
            switch (field)
            {
                case 1: return value.Text;
                case 2: return value.Number != 0 ? "true" : "false";
                case 3: return ((long)value.Number).ToString(System.Globalization.CultureInfo.InvariantCulture);
                case 4: return BitConverter.UInt64BitsToDouble(value.Number).ToString(System.Globalization.CultureInfo.InvariantCulture);
                case 5: return string.Join(',', Fields(value.Bytes).Where(v => v.Field == 1).Select(v => AnyValue(v.Value.Bytes)));
            }
        }
        return "";
    }

    private readonly record struct WireValue(ulong Number, ReadOnlyMemory<byte> Bytes)
    {
        public string Text => Encoding.UTF8.GetString(Bytes.Span);
    }

    /// <summary>The fields of a protobuf message in order: varints and fixed numbers as numbers, length-delimited ones as bytes.</summary>
    private static List<(int Field, WireValue Value)> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<(int, WireValue)>();
        var span = message.Span;
        var position = 0;
        while (position < span.Length)
        {
            var tag = Varint(span, ref position);
            var field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    fields.Add((field, new WireValue(Varint(span, ref position), default)));
                    break;
                case 1:
                    fields.Add((field, new WireValue(BitConverter.ToUInt64(span.Slice(position, 8)), default)));
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(span, ref position);
                    fields.Add((field, new WireValue(0, message.Slice(position, length))));
                    position += length;
                    break;
                case 5:
                    fields.Add((field, new WireValue(BitConverter.ToUInt32(span.Slice(position, 4)), default)));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"protobuf wire type {tag & 7} is not supported");
            }
        }
        return fields;
    }

    private static ulong Varint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = span[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
