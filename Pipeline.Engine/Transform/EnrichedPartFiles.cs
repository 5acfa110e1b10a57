using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;

namespace Pipeline.Engine.Transform;

/// <summary>
/// Collects the engine's enriched records in one local file per part (the engine writes parts in parallel), then
/// combines them into a few files per table (<see cref="Combine"/>) to be stored. The files live in a temporary folder
/// removed on dispose.
/// </summary>
public sealed class EnrichedPartFiles : IEnrichedOutput, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pipeline-enriched-").FullName;
    private readonly List<(BatchPart Part, string Path, EnrichedFile.Writer Writer)> _parts = [];

    public IEnrichedRecordWriter OpenPart(BatchPart part)
    {
        var path = Path.Combine(_folder, $"{Guid.NewGuid():N}.pen");
        var writer = new EnrichedFile.Writer(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16));
        lock (_parts)
        {
            _parts.Add((part, path, writer));
        }
        return writer;
    }

    /// <summary>
    /// Combines the parts' files (all written and disposed by now) into files of one table each, of at most
    /// <paramref name="maxBytes"/> unless a single part is larger, and returns each one's name (such as
    /// <c>orders/0001.pen</c>) and local path.
    /// </summary>
    public IReadOnlyList<(string Name, string Path)> Combine(long maxBytes)
    {
        var combined = new List<(string Name, string Path)>();
        foreach (var table in _parts.GroupBy(p => p.Part.Table).OrderBy(g => g.Key))
        {
            var group = new List<(string Path, EnrichedFile.Counts Counts)>();
            long groupBytes = 0;
            int files = 0;
            foreach (var (part, path, writer) in table.OrderBy(p => p.Part.Name, StringComparer.Ordinal))
            {
                long bytes = new FileInfo(path).Length;
                if (group.Count > 0 && groupBytes + bytes > maxBytes)
                {
                    combined.Add(Write(table.Key, ++files, group));
                    (group, groupBytes) = ([], 0);
                }
                group.Add((path, writer.Written));
                groupBytes += bytes;
            }
            combined.Add(Write(table.Key, ++files, group));
        }
        return combined;
    }

    private (string Name, string Path) Write(TableKind table, int number, List<(string Path, EnrichedFile.Counts Counts)> parts)
    {
        var name = $"{TableNames.Of(table)}/{number:D4}.pen";
        var path = Path.Combine(_folder, $"{TableNames.Of(table)}-{number:D4}.pen");
        using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            EnrichedFile.Concatenate(output, parts);
        }
        foreach (var part in parts)
        {
            File.Delete(part.Path);
        }
        return (name, path);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
