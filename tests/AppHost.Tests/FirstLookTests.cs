namespace AppHost.Tests;

/// <summary>What a person sees first in the Aspire dashboard: no error on a normal start (warming up is not an error).</summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class FirstLookTests(EmulatorAppFixture app)
{
    [Fact]
    public void A_normal_start_logs_no_error()
    {
        var start = app.Logs.Startup;
        // The start as the fixture saw it: every service warmed up (it is healthy only then) while it was being read.
        Assert.All(EmulatorApp.Services, service =>
            Assert.Contains(start, line => line.Resource == service && line.Text.Contains("Warmed up in", StringComparison.Ordinal)));

        var errors = start.Where(line => line.IsError).Select(line => $"{line.Resource}: {line.Text}").ToList();
        Assert.True(errors.Count == 0, $"{errors.Count} error lines on a normal start:\n{string.Join('\n', errors.Take(20))}");
    }
}
