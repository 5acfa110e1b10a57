using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Engine.Csv;

namespace Pipeline.Storage.Batches;

/// <summary>One file of an upload: its key, the name reports show, its table, size and ETag (its content as S3 saw it).</summary>
public sealed record BatchObject(string Key, string Name, TableKind Table, long Size, string ETag);

/// <summary>
/// What one upload of a batch is: its manifest (key and ETag) and every file the manifest lists, with their ETags.
/// <see cref="Id"/> hashes all of it, so new content under the same names is a new upload and the same content is
/// recognised as such. Every later read and move of the upload's files is conditional on these ETags.
/// </summary>
/// <param name="ManifestETag">Empty when the manifest did not exist.</param>
public sealed record BatchContent(string ManifestKey, string ManifestETag, IReadOnlyList<BatchObject> Files)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>A submission whose manifest does not exist: its identity is the key alone.</summary>
    public static BatchContent Missing(string manifestKey) => new(manifestKey, "", []);

    [JsonIgnore]
    public string Id { get; } = Hash(ManifestKey, ManifestETag, Files);

    /// <summary>When the manifest was written. The upload's files were all written before it; a file written later belongs to a newer upload.</summary>
    public DateTimeOffset? ManifestLastModified { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static BatchContent FromJson(string json) => JsonSerializer.Deserialize<BatchContent>(json, Json)
        ?? throw new JsonException("batch content cannot be null");

    private static string Hash(string manifestKey, string manifestETag, IReadOnlyList<BatchObject> files)
    {
        var canonical = new StringBuilder().Append(manifestKey).Append('\n').Append(manifestETag).Append('\n');
        foreach (var file in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            canonical.Append(file.Key).Append('\t').Append(file.ETag).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())))[..32];
    }
}
