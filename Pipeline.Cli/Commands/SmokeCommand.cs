using System.CommandLine;
using System.Globalization;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline smoke [--timeout SECONDS]</c>: is the pipeline working where it runs (the local AppHost, a deployed stack)?
/// Sends a small generated batch through it, checks its alert and its KPIs, and takes it out again (<see cref="SmokeRun"/>).
/// Progress on stderr, one JSON line on stdout when it passed; exit 1 when it failed, 2 when the pipeline rejected the batch.
/// </summary>
internal sealed class SmokeCommand : AwsCommand
{
    private readonly Option<double> _timeout = new("--timeout")
    {
        Description = "Seconds to wait for each alert: the batch's Succeeded, then its Retracted "
            + "(default 600: a stack that scales to zero starts tasks first).",
        DefaultValueFactory = _ => 600,
        CustomParser = argument =>
        {
            var text = argument.Tokens.Single().Value;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and <= 86_400)
            {
                return seconds;
            }
            argument.AddError($"--timeout '{text}' is not a number of seconds above 0 and at most 86400");
            return 0;
        },
    };

    public SmokeCommand()
        : base("smoke", "Send a small generated batch through the pipeline, check its alert and KPIs, then retract it.")
    {
        Options.Add(_timeout);
    }

    protected override async Task<int> RunAsync(ParseResult result, AwsConnection aws, CancellationToken cancellationToken)
    {
        CliTelemetry.Name("smoke", SmokeBatch.Name);
        var folder = Directory.CreateTempSubdirectory("pipeline-smoke-");
        try
        {
            var outcome = await new SmokeRun(aws, TimeSpan.FromSeconds(result.GetValue(_timeout))).RunAsync(folder.FullName, cancellationToken);
            Summary.Print(new
            {
                batch = SmokeBatch.Name,
                version = outcome.Version,
                retraction_version = outcome.RetractionVersion,
                earlier_versions = outcome.EarlierVersions,
                orders = outcome.Batch.Orders,
                items = outcome.Batch.Items,
                seed = outcome.Batch.Seed,
                days = outcome.Batch.Expected.OrderKpis.Select(r => r.OrderDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
                categories = outcome.Batch.Categories,
                order_kpi_rows = outcome.Batch.Expected.OrderKpis.Count,
                category_kpi_rows = outcome.Batch.Expected.CategoryKpis.Count,
                succeeded_ms = (long)outcome.Succeeded.TotalMilliseconds,
                retracted_ms = (long)outcome.Retracted.TotalMilliseconds,
                elapsed_ms = (long)outcome.Elapsed.TotalMilliseconds,
            });
            return ExitCodes.Accepted;
        }
        catch (SmokeFailure failure)
        {
            return Fail(failure.Message, failure.ExitCode);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
