using Pipeline.Engine.Batches;
using Pipeline.Engine.Transform;

namespace Services.Transform;

/// <summary>
/// Collects the engine's enriched records in one local file per part (the engine writes parts in parallel), to be
/// uploaded once the batch is read. The files live in a temporary folder removed on dispose.
/// </summary>
internal sealed class EnrichedPartFiles : IEnrichedOutput, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pipeline-transform-").FullName;
    private readonly List<(string PartName, string Path)> _files = [];

    /// <summary>Each part's name in the batch (such as <c>orders/orders_part1.csv</c>) and its enriched file.</summary>
    public IReadOnlyList<(string PartName, string Path)> Files
    {
        get { lock (_files) return [.. _files]; }
    }

    public IEnrichedRecordWriter OpenPart(BatchPart part)
    {
        var path = Path.Combine(_folder, $"{Guid.NewGuid():N}.pen");
        lock (_files)
        {
            _files.Add((part.Name, path));
        }
        return new EnrichedFile.Writer(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
