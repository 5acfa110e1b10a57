using System.Net.Http.Json;
using System.Text.Json;
using Pipeline.Contracts.Alerts;
using Xunit.Abstractions;

namespace AppHost.Tests;

/// <summary>
/// Anomalies through the running system: weeks of history, then a day with half its orders gives one Anomaly alert on
/// total_orders (and the API lists it), and a corrected version of that batch clears it without another alert.
/// </summary>
[Collection(EmulatorAppCollection.Name)]
public sealed class AnomalyTests(EmulatorAppFixture app, ITestOutputHelper output) : IDisposable
{
    /// <summary>A Monday; the history covers the five weeks before it (but its last day).</summary>
    private static readonly DateOnly Day = new(2015, 6, 1);

    private readonly PipelineDriver _pipeline = new(app);

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task Half_a_days_orders_is_one_anomaly_on_total_orders_and_a_corrected_upload_clears_it_without_an_alert()
    {
        // One upload of five weeks (400 orders a day) makes the history of every weekday. It ends two days before the day:
        // the orders of its last hour have items on the next day, a day without orders, which is not judged (no alert).
        await _pipeline.SubmitAsync(PipelineDriver.Generate(400 * 34, Day.AddDays(-35), seed: 80, days: 34), "anomaly-history");
        Assert.Equal(AlertStatus.Succeeded, (await _pipeline.NextAlertAsync("anomaly-history")).Status);

        var ids = PipelineDriver.NewIds();
        await _pipeline.SubmitAsync(PipelineDriver.Generate(200, Day, seed: 81, days: 1, idOffset: ids), "anomaly-day");
        var alerts = await _pipeline.AllAlertsAboutAsync("anomaly-day");

        Assert.Equal([(AlertStatus.Succeeded, (int?)1)], alerts.Where(a => a.Status != AlertStatus.Anomaly).Select(a => (a.Status, a.Version)));
        Assert.DoesNotContain(_pipeline.ClaimAlertsAbout("anomaly-history"),
            a => a.AlertId.StartsWith("anomaly/2015-05-31#", StringComparison.Ordinal));
        var orders = Assert.Single(alerts, a => a.AlertId == $"anomaly/2015-06-01#total_orders/anomaly-day/v1");
        Assert.Equal((AlertStatus.Anomaly, (int?)1, "data/anomaly-day/manifest_anomaly-day.json"), (orders.Status, orders.Version, orders.ManifestKey));
        output.WriteLine(orders.ToJson()); // the example alert of docs/data-quality.md
        Assert.StartsWith("Anomaly on 2015-06-01: total_orders is ", orders.Subject);
        Assert.Contains("spreads of", orders.Summary);
        Assert.Contains("batch anomaly-day (version 1", orders.Summary);
        Assert.Single(alerts, a => a.AlertId.StartsWith("anomaly/2015-06-01#total_orders/", StringComparison.Ordinal));
        var open = await OpenAnomaliesAsync();
        var listed = Assert.Single(open, a => a.GetProperty("figure").GetString() == "total_orders");
        Assert.Equal(("anomaly-day", 1), (listed.GetProperty("batch_id").GetString(), listed.GetProperty("version").GetInt32()));
        Assert.True(listed.GetProperty("deviation").GetDouble() < -3.5);

        // The corrected export: the day's full orders, as version 2 of the batch.
        await _pipeline.SubmitAsync(PipelineDriver.Generate(400, Day, seed: 82, days: 1, idOffset: ids), "anomaly-day");
        var corrected = await _pipeline.AllAlertsAboutAsync("anomaly-day");

        Assert.Equal([(AlertStatus.Succeeded, (int?)2)], corrected.Where(a => a.Status != AlertStatus.Anomaly).Select(a => (a.Status, a.Version)));
        // Nothing new about total_orders. (A category's revenue, from 60-odd orders a day, may fall outside its band with the new data:
        // that is a new alert about that figure, which this data does have.)
        Assert.DoesNotContain(corrected, a => a.AlertId.Contains("#total_orders/", StringComparison.Ordinal));
        Assert.DoesNotContain(await OpenAnomaliesAsync(), a => a.GetProperty("figure").GetString() == "total_orders");
    }

    /// <summary>The dashboard API's open anomalies of <see cref="Day"/>.</summary>
    private async Task<List<JsonElement>> OpenAnomaliesAsync()
    {
        using var dashboard = app.App.CreateHttpClient("dashboard");
        return (await dashboard.GetFromJsonAsync<List<JsonElement>>("/api/anomalies?from=2015-06-01&to=2015-06-01"))!;
    }
}
