using Pipeline.Contracts.Alerts;

namespace AppHost.Tests;

/// <summary>
/// What a person sees first in the Aspire dashboard: no error on a normal start (warming up is not an error), and a
/// trace list that holds the batches: the health probes, the KPI dashboard's among them, start no trace. (A page of the
/// KPI dashboard that reads the queues while it is open starts none either: Dashboard.Tests, in a browser.)
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class FirstLookTests(EmulatorAppFixture app)
{
    private static readonly TimeSpan SpanTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public void A_normal_start_logs_no_error()
    {
        var start = app.Logs.Startup;
        // The start as the fixture saw it: every service warmed up (it is healthy only then) while it was being read.
        Assert.All(EmulatorApp.Services, service =>
            Assert.Contains(start, line => line.Resource == service && line.Text.Contains("Warmed up in", StringComparison.Ordinal)));

        // Each error with the two lines after it of the same resource (the console log's message is on the next line).
        var errors = start.Select((line, i) => (line, i)).Where(e => e.line.IsError)
            .Select(e => $"{e.line.Resource}: " + string.Join(" | ", start.Skip(e.i).Where(l => l.Resource == e.line.Resource).Take(3).Select(l => l.Text)))
            .ToList();
        Assert.True(errors.Count == 0, $"{errors.Count} error lines on a normal start:\n{string.Join('\n', errors.Take(20))}");
    }

    [Fact]
    public async Task Health_probes_reach_the_readiness_checks_and_start_no_trace()
    {
        // The KPI dashboard's /health is its readiness checks (its page about the pipeline's health lives elsewhere).
        using var dashboard = app.App.CreateHttpClient("dashboard");
        Assert.Equal("Healthy", await dashboard.GetStringAsync("/health"));

        // Each process exports its spans in the order they end: once a batch's spans are in from every service, and the
        // dashboard's span of seeing its alert, so is every span of every probe the AppHost made before.
        using var driver = new PipelineDriver(app);
        var batch = $"first-look-{Guid.NewGuid():N}"[..20];
        var submitted = DateTimeOffset.UtcNow;
        await driver.SubmitAsync(PipelineDriver.Generate(50, new DateOnly(2018, 8, 1), seed: 19, days: 1), batch);
        Assert.Equal(AlertStatus.Succeeded, (await driver.NextAlertAsync(batch)).Status);
        const string heard = "dashboard alert seen"; // the dashboard's LatestAlertWatcher.ChangeSeenSpan
        var spans = await app.Traces.WaitForAsync(all =>
            EmulatorApp.Services.All(service => all.Any(s => s.Service == service && s["pipeline.batch.id"] == batch))
            && all.Any(s => s.Service == "dashboard" && s.Name == heard && s.Start >= submitted),
            SpanTimeout, $"spans of batch {batch} from every service and the dashboard's {heard}");

        Assert.DoesNotContain(spans, s => s.Name.Contains("/health", StringComparison.Ordinal) || s["http.route"] == "/health"
            || s["url.path"] == "/health" || s["aspnetcore.components.route"] == "/health");
    }
}
