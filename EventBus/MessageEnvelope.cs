using System.Text.Json;

namespace EventBus;

/// <summary>
/// MassTransit's JSON envelope (<c>application/vnd.masstransit+json</c>): the message and everything a receiver needs
/// to route, correlate and trace it. Properties are in MassTransit's order and serialized in camelCase.
/// </summary>
public sealed class MessageEnvelope
{
    public string? MessageId { get; set; }
    public string? RequestId { get; set; }
    public string? CorrelationId { get; set; }
    public string? ConversationId { get; set; }
    public string? InitiatorId { get; set; }
    public string? SourceAddress { get; set; }
    public string? DestinationAddress { get; set; }
    public string? ResponseAddress { get; set; }
    public string? FaultAddress { get; set; }

    /// <summary>The message's type URNs, most specific first; receivers match on these, never on CLR type names.</summary>
    public string[]? MessageType { get; set; }

    public JsonElement? Message { get; set; }
    // UTC times, written with a Z as MassTransit writes them.
    public DateTime? ExpirationTime { get; set; }
    public DateTime? SentTime { get; set; }
    public Dictionary<string, JsonElement>? Headers { get; set; }
    public HostInfo? Host { get; set; }
}

/// <summary>The process that produced a message, as MassTransit describes it.</summary>
public sealed class HostInfo
{
    public string? MachineName { get; set; }
    public string? ProcessName { get; set; }
    public int ProcessId { get; set; }
    public string? Assembly { get; set; }
    public string? AssemblyVersion { get; set; }
    public string? FrameworkVersion { get; set; }
    public string? MassTransitVersion { get; set; }
    public string? OperatingSystemVersion { get; set; }

    /// <summary>This process, computed once.</summary>
    public static HostInfo Current { get; } = Describe();

    private static HostInfo Describe()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        var entry = System.Reflection.Assembly.GetEntryAssembly()?.GetName();
        return new HostInfo
        {
            MachineName = Environment.MachineName,
            ProcessName = process.ProcessName,
            ProcessId = Environment.ProcessId,
            Assembly = entry?.Name,
            AssemblyVersion = entry?.Version?.ToString(),
            FrameworkVersion = Environment.Version.ToString(),
            // Not MassTransit: readers only display this, so say which library wrote the envelope.
            MassTransitVersion = "EventBus " + typeof(HostInfo).Assembly.GetName().Version,
            OperatingSystemVersion = Environment.OSVersion.ToString(),
        };
    }
}
