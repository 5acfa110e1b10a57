using System.Text.Json;

namespace Pipeline.Cli;

/// <summary>The one machine-readable line a command prints on stdout when it is done.</summary>
internal static class Summary
{
    public static void Print(object summary) => Console.Out.WriteLine(JsonSerializer.Serialize(summary));
}
