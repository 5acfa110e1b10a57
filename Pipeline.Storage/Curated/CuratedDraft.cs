using System.Globalization;
using System.Threading.Channels;
using Pipeline.Engine.Curated;

namespace Pipeline.Storage.Curated;

/// <summary>
/// One version's Parquet being written to a temporary folder (one file a day) on its own task, from
/// <see cref="CuratedPublisher.Draft"/>; <see cref="CuratedPublisher.SyncAsync(string, string, CuratedDraft?, CancellationToken)"/>
/// uploads each day as soon as its file is finished (<see cref="FinishedDays"/>). Disposing it stops the writing and
/// deletes the folder, whatever happened.
/// </summary>
public sealed class CuratedDraft : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pipeline-curated-").FullName;
    private readonly CancellationTokenSource _stop;
    private readonly Channel<CuratedDayFile> _finished = Channel.CreateUnbounded<CuratedDayFile>(new() { SingleReader = true });

    /// <param name="version">The version written.</param>
    /// <param name="write">Writes the files into the folder it is given, telling each day as its file is finished.</param>
    /// <param name="cancellationToken">Stops the writing.</param>
    internal CuratedDraft(int version, Func<string, Action<CuratedDayFile>, CancellationToken, Task<IReadOnlyList<CuratedDayFile>>> write,
        CancellationToken cancellationToken)
    {
        Version = version;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Days = Task.Run(async () =>
        {
            try
            {
                return await write(_folder, day => _finished.Writer.TryWrite(day), _stop.Token).ConfigureAwait(false);
            }
            finally
            {
                _finished.Writer.TryComplete(); // a failure is told by Days, with its own exception
            }
        }, CancellationToken.None); // always run, so that the days' channel ends even when stopped before starting
    }

    public int Version { get; }

    /// <summary>The days written, once every file is complete.</summary>
    internal Task<IReadOnlyList<CuratedDayFile>> Days { get; }

    /// <summary>Each day as soon as its file is complete; ends when the writing ends, however it ends (see <see cref="Days"/>). Read once.</summary>
    internal IAsyncEnumerable<CuratedDayFile> FinishedDays(CancellationToken cancellationToken) => _finished.Reader.ReadAllAsync(cancellationToken);

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
