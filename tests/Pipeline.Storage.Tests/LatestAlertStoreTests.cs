using Pipeline.Storage.Alerts;

namespace Pipeline.Storage.Tests;

/// <summary>The latest-alert item every dashboard task polls (dynalite over HTTP).</summary>
public class LatestAlertStoreTests(LocalAwsFixture aws) : IClassFixture<LocalAwsFixture>
{
    [Fact]
    public async Task Every_note_moves_the_count_and_an_older_alert_noted_late_does_not_replace_a_newer_one()
    {
        using var dynamoDb = aws.CreateDynamoDb();
        var store = new LatestAlertStore(dynamoDb, aws.Topology);
        var before = (await store.ReadAsync(CancellationToken.None))?.Count ?? 0;
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        const string sentIn = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        await store.NoteAsync("""{"alert":"newer"}""", now, sentIn, CancellationToken.None);
        // A second Notifier task that sent an older alert notes it after: counted (the readers refresh), not made the latest.
        await store.NoteAsync("""{"alert":"older"}""", now.AddSeconds(-1), null, CancellationToken.None);

        Assert.Equal(new LatestAlert(before + 2, """{"alert":"newer"}""", now, sentIn), await store.ReadAsync(CancellationToken.None));

        // An alert sent outside any trace leaves no context of the one before it.
        await store.NoteAsync("""{"alert":"newest"}""", now.AddSeconds(1), null, CancellationToken.None);
        Assert.Equal(new LatestAlert(before + 3, """{"alert":"newest"}""", now.AddSeconds(1), null), await store.ReadAsync(CancellationToken.None));
    }
}
