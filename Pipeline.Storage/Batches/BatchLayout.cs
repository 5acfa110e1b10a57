using System.Text.RegularExpressions;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Validation;
using Pipeline.Topology;

namespace Pipeline.Storage.Batches;

/// <summary>
/// Where a batch's objects live in the bucket:
/// <c>data/&lt;batch&gt;/manifest_&lt;batch&gt;.json</c>, <c>data/&lt;batch&gt;/orders/*.csv</c>, <c>data/&lt;batch&gt;/order_items/*.csv</c>
/// (any of them may be <c>.csv.gz</c> or <c>.csv.zst</c> instead), the product master at <c>data/products.csv</c>.
/// Each version of a batch (an upload, numbered by the pipeline) is
/// archived under a folder of its own: after success <c>processed/&lt;batch&gt;/v&lt;n&gt;/</c>, after rejection
/// <c>errors/&lt;batch&gt;/v&lt;n&gt;/</c>, after a retraction <c>retracted/&lt;batch&gt;/v&lt;n&gt;/</c>; transformed data under
/// <c>transformed/&lt;batch&gt;/v&lt;n&gt;/</c>. Every key is checked: no <c>..</c>, nothing outside its prefix.
/// </summary>
public static partial class BatchLayout
{
    public const string DataPrefix = BucketSpec.DataPrefix;
    public const string ProcessedPrefix = BucketSpec.ProcessedPrefix;
    public const string ErrorsPrefix = BucketSpec.ErrorsPrefix;
    public const string RetractedPrefix = BucketSpec.RetractedPrefix;
    public const string TransformedPrefix = BucketSpec.TransformedPrefix;
    public const string ProductMasterKey = BucketSpec.ProductMasterKey;

    /// <summary>Where product files that several batches use live; no batch may have this name, so none can move them.</summary>
    public const string SharedPrefix = BucketSpec.SharedPrefix;

    private const string SharedFolderName = "shared";

    public const string ReportName = BucketSpec.ReportName;

    public static string ManifestKey(string batch) => $"{DataPrefix}{RequireBatchName(batch)}/manifest_{batch}.json";

    public static string BatchPrefix(string batch) => $"{DataPrefix}{RequireBatchName(batch)}/";

    /// <summary>The batch name in a manifest key, or a clear error for a key that is not <c>data/&lt;batch&gt;/manifest_&lt;batch&gt;.json</c>.</summary>
    public static string BatchNameOf(string manifestKey)
    {
        var match = ManifestKeyPattern().Match(manifestKey);
        if (!match.Success || match.Groups["batch"].Value != match.Groups["again"].Value || !IsBatchName(match.Groups["batch"].Value))
        {
            throw new BatchLayoutException(
                $"'{Shorten(manifestKey)}' is not a manifest key: expected data/<batch>/manifest_<batch>.json with a batch name of " +
                $"letters, digits, '.', '_' or '-' (not '{SharedFolderName}').");
        }
        return match.Groups["batch"].Value;
    }

    public static bool IsManifestKey(string key) => ManifestKeyPattern().IsMatch(key);

    /// <summary>
    /// A manifest entry of one table (a file name such as <c>orders_part1.csv</c>, or <c>orders_part1.csv.gz</c> compressed:
    /// <see cref="PartFormat"/>) as a key inside the batch folder.
    /// </summary>
    public static string PartKey(string batch, string table, string fileName)
    {
        if (!SafeFileName().IsMatch(fileName))
        {
            throw new BatchLayoutException(
                $"the manifest lists '{Shorten(fileName)}' under {table}: expected a {PartFormat.ExtensionsText} file name " +
                $"of at most 100 characters inside data/{batch}/{table}/ (no folders, no '..').");
        }
        return $"{BatchPrefix(batch)}{table}/{fileName}";
    }

    /// <summary>
    /// The products file of a batch: the product master when the manifest names none, else the manifest's key, which must
    /// be the master, a shared file under <c>data/shared/</c> or a file in the batch's own folder — never another
    /// batch's file (which moves away when that batch is archived), nothing outside <c>data/</c>, no <c>..</c>.
    /// </summary>
    public static string ProductsKey(string batch, string? manifestProducts)
    {
        if (string.IsNullOrWhiteSpace(manifestProducts))
        {
            return ProductMasterKey;
        }
        var key = manifestProducts.Trim();
        if (!key.StartsWith(DataPrefix, StringComparison.Ordinal) || !PartFormat.IsPartName(key)
            || key.Split('/').Any(segment => segment is "" or "." or ".."))
        {
            throw new BatchLayoutException(
                $"the manifest's products key '{Shorten(key)}' must be a {PartFormat.ExtensionsText} key inside data/ without '..' " +
                $"(such as {ProductMasterKey} or data/{batch}/products.csv).");
        }
        if (key != ProductMasterKey && !key.StartsWith(SharedPrefix, StringComparison.Ordinal) && !IsInBatchFolder(batch, key))
        {
            throw new BatchLayoutException(
                $"the manifest's products key '{Shorten(key)}' is another batch's file: " +
                $"use the product master {ProductMasterKey}, a shared file under {SharedPrefix} or data/{batch}/products.csv.");
        }
        return key;
    }

    /// <summary>Whether a key belongs to the batch's own folder (a shared product master or another batch's file does not).</summary>
    public static bool IsInBatchFolder(string batch, string key) => key.StartsWith(BatchPrefix(batch), StringComparison.Ordinal);

    /// <summary>Whether <paramref name="key"/> is an object inside <paramref name="folder"/> (no <c>..</c>, no empty or <c>.</c> segment on the way).</summary>
    public static bool IsInFolder(string folder, string key) =>
        key.Length > folder.Length
            && key.StartsWith(folder, StringComparison.Ordinal)
            && key[folder.Length..].Split('/').All(segment => segment is not ("" or "." or ".."));

    /// <summary>The folder of one version of a batch under an archive prefix: <c>processed/b/v3/</c>.</summary>
    public static string VersionFolder(string archivePrefix, string batch, int version) => $"{archivePrefix}{RequireBatchName(batch)}/v{version}/";

    /// <summary>Where a batch object goes when its version is archived: <c>data/b/orders/x.csv</c> becomes <c>processed/b/v3/orders/x.csv</c>.</summary>
    public static string ArchiveKey(string batch, int version, string archivePrefix, string key) =>
        IsInBatchFolder(batch, key)
            ? VersionFolder(archivePrefix, batch, version) + key[BatchPrefix(batch).Length..]
            : throw new BatchLayoutException($"{Shorten(key)} is not in batch {batch}'s folder and is never moved with it.");

    public static string ReportKey(string batch, int version, bool accepted) =>
        VersionFolder(accepted ? ProcessedPrefix : ErrorsPrefix, batch, version) + ReportName;

    /// <summary>1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit; not <c>shared</c> (the folder of shared product files).</summary>
    public static bool IsBatchName(string name) => BatchName().IsMatch(name) && name != SharedFolderName;

    private static string RequireBatchName(string batch) =>
        IsBatchName(batch) ? batch : throw new BatchLayoutException(
            $"'{Shorten(batch)}' is not a batch name: use 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit " +
            $"(not '{SharedFolderName}', the folder of shared product files).");

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..120] + "...";

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex BatchName();

    [GeneratedRegex(@"^data/(?<batch>[^/]+)/manifest_(?<again>[^/]+)\.json$")]
    private static partial Regex ManifestKeyPattern();

    // At most 100 characters: a part's keys travel in messages and run records (BatchLimits.MaxFiles says why that matters).
    [GeneratedRegex(@"^(?=.{5,100}$)[A-Za-z0-9][A-Za-z0-9._-]*\.csv(\.gz|\.zst)?$")]
    private static partial Regex SafeFileName();
}

/// <summary>
/// A key or name that breaks the bucket layout, or an upload beyond the limits; the message says what was expected, and
/// <see cref="Rule"/> is the rejection's rule id.
/// </summary>
public sealed class BatchLayoutException(string message, string rule = ValidationRule.UnreadableManifest) : Exception(message)
{
    public string Rule { get; } = rule;
}
