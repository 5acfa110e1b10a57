namespace Pipeline.Cli;

/// <summary>Exit codes scripts can rely on. Usage errors from the parser also exit with 1.</summary>
internal static class ExitCodes
{
    public const int Accepted = 0;
    public const int Failed = 1;
    public const int Rejected = 2;

    /// <summary>Runs the work; an I/O problem becomes one line on stderr and exit code 1.</summary>
    public static int Guard(string command, Func<int> work)
    {
        try
        {
            return work();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or ArgumentException)
        {
            Console.Error.WriteLine($"pipeline {command}: {error.Message}");
            return Failed;
        }
    }
}
