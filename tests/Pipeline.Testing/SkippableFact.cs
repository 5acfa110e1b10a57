using System.Diagnostics.CodeAnalysis;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Pipeline.Testing;

/// <summary>
/// A fact that may find out while it runs that part of it cannot be checked here, and then ends as skipped with the
/// reason (<see cref="DynamicSkip.Unless"/>) instead of passing silently. xunit 2 skips only before a test runs; this
/// reports <see cref="SkipException"/> (what xunit 3's <c>Assert.Skip</c> throws) as a skip.
/// </summary>
[XunitTestCaseDiscoverer("Pipeline.Testing." + nameof(SkippableFactDiscoverer), "Pipeline.Testing")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class SkippableFactAttribute : FactAttribute;

public static class DynamicSkip
{
    /// <summary>Ends the test as skipped, saying <paramref name="reason"/>, unless <paramref name="condition"/> holds.</summary>
    public static void Unless([DoesNotReturnIf(false)] bool condition, string reason)
    {
        if (!condition)
        {
            throw SkipException.ForSkip(reason);
        }
    }
}

public sealed class SkippableFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        [new SkippableTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
}

/// <summary>A test case whose failure by <see cref="SkipException"/> is reported as a skip with the exception's reason.</summary>
public sealed class SkippableTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippableTestCase()
    {
    }

    public SkippableTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod testMethod)
        : base(diagnosticMessageSink, display, options, testMethod)
    {
    }

    public override async Task<RunSummary> RunAsync(IMessageSink diagnosticMessageSink, IMessageBus messageBus, object[] constructorArguments,
        ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
    {
        var skips = new SkipsReported(messageBus);
        var summary = await base.RunAsync(diagnosticMessageSink, skips, constructorArguments, aggregator, cancellationTokenSource);
        summary.Failed -= skips.Count;
        summary.Skipped += skips.Count;
        return summary;
    }

    /// <summary>Passes every message on, but a test failed by <see cref="SkipException"/> as that test skipped.</summary>
    private sealed class SkipsReported(IMessageBus inner) : IMessageBus
    {
        private const string Token = "$XunitDynamicSkip$";

        public int Count { get; private set; }

        public bool QueueMessage(IMessageSinkMessage message)
        {
            if (message is ITestFailed failed && failed.ExceptionTypes.FirstOrDefault() == typeof(SkipException).FullName)
            {
                Count++;
                var reason = failed.Messages.FirstOrDefault() ?? "";
                return inner.QueueMessage(new TestSkipped(failed.Test, reason.StartsWith(Token, StringComparison.Ordinal) ? reason[Token.Length..] : reason));
            }
            return inner.QueueMessage(message);
        }

        public void Dispose()
        {
            // The inner bus belongs to the runner.
        }
    }
}
