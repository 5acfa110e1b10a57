using Pipeline.Testing;

namespace Pipeline.EndToEnd.Benchmarks;

/// <summary>The AWS calls among a service's spans: those made within a span, and how many round trips they were.</summary>
internal sealed class SpanCalls(IReadOnlyList<ReceivedSpan> spans)
{
    private readonly Dictionary<(string TraceId, string SpanId), ReceivedSpan> _byId =
        spans.GroupBy(s => (s.TraceId, s.SpanId)).ToDictionary(g => g.Key, g => g.First());

    public ReceivedSpan? Parent(ReceivedSpan span) => span.ParentSpanId is { } parent ? _byId.GetValueOrDefault((span.TraceId, parent)) : null;

    /// <summary>The span of the message a stage's span is part of (its parent in the same service), or the stage's own.</summary>
    public ReceivedSpan ProcessOf(ReceivedSpan stage) => Parent(stage) is { } process && process.Service == stage.Service ? process : stage;

    /// <summary>
    /// The AWS calls of <paramref name="outer"/>'s service and trace made within it (not the HTTP spans under them), how many
    /// one after another (a call that starts once every earlier call has ended begins a new round trip), and the time they
    /// cover (overlapping calls counted once).
    /// </summary>
    public (List<ReceivedSpan> Calls, int Sequential, TimeSpan Covered) Within(ReceivedSpan outer)
    {
        var calls = spans.Where(s => s.TraceId == outer.TraceId && s.Service == outer.Service && IsCall(s) && !UnderCall(s)
            && s.Start >= outer.Start && s.End <= outer.End).OrderBy(s => s.Start).ToList();
        var covered = TimeSpan.Zero;
        var until = DateTimeOffset.MinValue;
        var sequential = 0;
        foreach (var call in calls)
        {
            sequential += call.Start >= until ? 1 : 0;
            var from = call.Start > until ? call.Start : until;
            if (call.End > from)
            {
                covered += call.End - from;
                until = call.End;
            }
        }
        return (calls, sequential, covered);
    }

    /// <summary>"PutItem 11, BatchGetItem 2": the calls by operation, the most frequent first.</summary>
    public static string ByOperation(IEnumerable<ReceivedSpan> calls) => string.Join(", ", calls.GroupBy(c => c.Name)
        .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));

    private static bool IsCall(ReceivedSpan s) => s.Scope is "Amazon.AWSSDK" or "Aws.Sns" or "System.Net.Http";

    private bool UnderCall(ReceivedSpan s) => Parent(s) is { } parent && (IsCall(parent) || UnderCall(parent));
}
