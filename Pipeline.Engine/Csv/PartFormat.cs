using System.IO.Compression;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Pipeline.Engine.Csv;

/// <summary>How a part's CSV is stored: plain, gzip (<c>.csv.gz</c>) or Zstandard (<c>.csv.zst</c>).</summary>
public enum PartCompression
{
    None,
    Gzip,
    Zstd,
}

/// <summary>
/// The file names a batch's parts may have and what each means: <c>.csv</c> is read as it is, <c>.csv.gz</c> and
/// <c>.csv.zst</c> are decompressed while they are read (never to disk, never whole into memory).
/// </summary>
public static class PartFormat
{
    public const string CsvExtension = ".csv";
    public const string GzipExtension = ".csv.gz";
    public const string ZstdExtension = ".csv.zst";

    /// <summary>Every extension a part may have, as docs and error messages list them.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [CsvExtension, GzipExtension, ZstdExtension];

    /// <summary>The extensions as a sentence: <c>.csv, .csv.gz or .csv.zst</c>.</summary>
    public const string ExtensionsText = ".csv, .csv.gz or .csv.zst";

    /// <summary>How a part named <paramref name="name"/> is stored; null when the name is not a part's.</summary>
    public static PartCompression? CompressionOf(string name) =>
        name.EndsWith(CsvExtension, StringComparison.Ordinal) ? PartCompression.None
        : name.EndsWith(GzipExtension, StringComparison.Ordinal) ? PartCompression.Gzip
        : name.EndsWith(ZstdExtension, StringComparison.Ordinal) ? PartCompression.Zstd
        : null;

    public static bool IsPartName(string name) => CompressionOf(name) is not null;

    /// <summary>
    /// Roughly how many bytes of CSV a part of <paramref name="storedBytes"/> holds, for scheduling only: gzip (level 6) and
    /// Zstandard (level 3) shrink the batches' CSV about 3.5 times.
    /// </summary>
    public static long EstimatedCsvBytes(string name, long? storedBytes) =>
        CompressionOf(name) is PartCompression.Gzip or PartCompression.Zstd ? (storedBytes ?? 0) * 7 / 2 : storedBytes ?? 0;

    /// <summary>The extension of a part stored as <paramref name="compression"/> says.</summary>
    public static string ExtensionOf(PartCompression compression) => compression switch
    {
        PartCompression.Gzip => GzipExtension,
        PartCompression.Zstd => ZstdExtension,
        _ => CsvExtension,
    };

    /// <summary>The format's name, as reports say it.</summary>
    public static string Name(PartCompression compression) => compression switch
    {
        PartCompression.Gzip => "gzip",
        PartCompression.Zstd => "Zstandard",
        _ => "plain CSV",
    };

    /// <summary>
    /// A stream that writes <paramref name="destination"/> compressed as <paramref name="compression"/> says (and closes it
    /// when disposed), at the level the <c>gzip</c> and <c>zstd</c> tools use by default (6 and 3), as exports mostly are.
    /// Zstandard frames carry a checksum, so that a corrupt file is found when it is read.
    /// </summary>
    public static Stream Compress(Stream destination, PartCompression compression)
    {
        switch (compression)
        {
            case PartCompression.Gzip:
                return new GZipStream(destination, CompressionLevel.Optimal);
            case PartCompression.Zstd:
                var zstd = new CompressionStream(destination, level: 3, leaveOpen: false);
                zstd.SetParameter(ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
                return zstd;
            default:
                return destination;
        }
    }
}
