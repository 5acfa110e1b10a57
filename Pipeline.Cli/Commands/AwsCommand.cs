using System.CommandLine;
using System.Diagnostics;
using System.Net.Http;
using System.Net.Sockets;
using Amazon.Runtime;
using Pipeline.Storage.Batches;

namespace Pipeline.Cli.Commands;

/// <summary>
/// A command that talks to the pipeline's AWS resources: the shared connection options, and every expected failure
/// (I/O, usage, an AWS error, the emulators not running) as one line on stderr with exit code 1.
/// </summary>
internal abstract class AwsCommand : Command
{
    private const string StartHint = "is the AppHost running? (dotnet run --project AppHost)";

    private readonly AwsConnectionOptions _aws = new();

    protected AwsCommand(string name, string description)
        : base(name, description)
    {
        _aws.AddTo(this);
        SetAction(async (result, cancellationToken) =>
        {
            using var tracing = CliTelemetry.Start();
            using var activity = CliTelemetry.Source.StartActivity(Path());
            try
            {
                using var connection = await _aws.ConnectAsync(result, cancellationToken);
                return await RunAsync(result, connection, cancellationToken);
            }
            catch (Exception error) when (Unreachable(error) is { } network)
            {
                return Fail($"cannot reach AWS ({network.Message}): {StartHint}");
            }
            catch (AmazonServiceException error)
            {
                return Fail($"{error.ErrorCode ?? error.StatusCode.ToString()}: {error.Message}");
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or ArgumentException
                or BatchLayoutException or AmazonClientException)
            {
                return Fail(error.Message);
            }
        });
    }

    protected abstract Task<int> RunAsync(ParseResult result, AwsConnection aws, CancellationToken cancellationToken);

    /// <summary>One line on stderr, <c>pipeline &lt;command&gt;: &lt;message&gt;</c>, the span marked failed, and the exit code.</summary>
    protected int Fail(string message, int exitCode = ExitCodes.Failed)
    {
        Activity.Current?.SetStatus(ActivityStatusCode.Error, message);
        Console.Error.WriteLine($"pipeline {Path()}: {message}");
        return exitCode;
    }

    /// <summary>"dlq list" rather than "list": the name as typed.</summary>
    private string Path() => Parents.OfType<Command>().FirstOrDefault() is { } parent and not RootCommand ? $"{parent.Name} {Name}" : Name;

    /// <summary>The connection failure (refused, no such host) somewhere inside <paramref name="error"/>, if that is what it is.</summary>
    private static Exception? Unreachable(Exception error)
    {
        for (Exception? inner = error; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } or SocketException)
            {
                return inner;
            }
        }
        return null;
    }
}
