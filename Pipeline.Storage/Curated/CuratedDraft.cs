using System.Globalization;
using Pipeline.Engine.Curated;

namespace Pipeline.Storage.Curated;

/// <summary>
/// One version's Parquet being written to a temporary folder (one file a day) on its own task, from
/// <see cref="CuratedPublisher.Draft"/>; <see cref="CuratedPublisher.SyncAsync(string, string, CuratedDraft?, CancellationToken)"/>
/// uploads it. Disposing it stops the writing and deletes the folder, whatever happened.
/// </summary>
public sealed class CuratedDraft : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pipeline-curated-").FullName;
    private readonly CancellationTokenSource _stop;

    internal CuratedDraft(int version, Func<string, CancellationToken, Task<IReadOnlyList<CuratedDayFile>>> write, CancellationToken cancellationToken)
    {
        Version = version;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Days = Task.Run(() => write(_folder, _stop.Token), _stop.Token);
    }

    public int Version { get; }

    /// <summary>The days written, once every file is complete.</summary>
    internal Task<IReadOnlyList<CuratedDayFile>> Days { get; }

    internal string PathOf(DateOnly day) => PathOf(_folder, day);

    internal static string PathOf(string folder, DateOnly day) => Path.Combine(folder, day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + ".parquet");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Days.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Stopped, or failed: whoever needed the files has seen why (UploadAsync awaits Days).
        }
        _stop.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
