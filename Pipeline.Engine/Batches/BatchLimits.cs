using System.Globalization;
using Pipeline.Engine.Validation;

namespace Pipeline.Engine.Batches;

/// <summary>
/// What a batch may be, in one place. A batch beyond a limit is rejected with the limit's own rule id, naming the limit
/// and the value found; nothing beyond a limit is read into memory. Bound from the configuration section
/// <see cref="SectionName"/> in the services (Validate and Transform must agree: set them alike); the defaults hold a
/// million-order batch many times over. Why each default is what it is: docs/pipeline.md, "Limits".
/// </summary>
public sealed record BatchLimits
{
    public const string SectionName = "Pipeline:Limits";

    /// <summary>
    /// Files one batch may list: the products file and every orders and order items part (a million orders come in 10 or
    /// 20). Each is an entry in the version's run record (one DynamoDB item, 400 KB) and a key in <c>BatchTransformed</c>
    /// (SNS: 256 KiB): with part names of up to 100 characters, 500 files fit both with room to spare.
    /// </summary>
    public int MaxFiles { get; init; } = 500;

    /// <summary>
    /// Bytes of one file as stored: compressed, for a <c>.csv.gz</c> or <c>.csv.zst</c> part (a 1M-order batch is 300 MB in
    /// all as plain CSV).
    /// </summary>
    public long MaxFileBytes { get; init; } = 1L << 30;

    /// <summary>Bytes of all of a batch's files together as stored.</summary>
    public long MaxBatchBytes { get; init; } = 4L << 30;

    /// <summary>
    /// Bytes one compressed part may decompress to: as much as a plain file may hold, so that a compressed part never
    /// holds more than its plain twin could. A decompression bomb is stopped here, while it streams.
    /// </summary>
    public long MaxDecompressedFileBytes { get; init; } = 1L << 30;

    /// <summary>Bytes all of a batch's compressed parts may decompress to together (as <see cref="MaxBatchBytes"/> for plain files).</summary>
    public long MaxDecompressedBatchBytes { get; init; } = 4L << 30;

    /// <summary>Bytes of the manifest, which is read whole (one listing 500 parts with their ETags is about 60 KB).</summary>
    public int MaxManifestBytes { get; init; } = 1 << 20;

    /// <summary>Bytes of one row, with any quoted line breaks.</summary>
    public int MaxLineBytes { get; init; } = 64 * 1024;

    /// <summary>Fields of one row (the header included); the widest table has 10 columns.</summary>
    public int MaxFields { get; init; } = 64;

    /// <summary>
    /// Distinct categories a products file may name. Each one is a key in the category KPI table, an entry in the day's
    /// KPI state item (DynamoDB items hold at most 400 KB) and a name in the <c>KpisUpdated</c> message (SNS: 256 KiB).
    /// </summary>
    public int MaxCategories { get; init; } = 200;

    /// <summary>Characters of one category name (a DynamoDB key; see <see cref="MaxCategories"/>).</summary>
    public int MaxCategoryChars { get; init; } = 100;

    /// <summary>
    /// Distinct order dates a batch's orders and items may fall on (10 years): each is a day of KPIs to fold and a date in
    /// the <c>KpisUpdated</c> message.
    /// </summary>
    public int MaxDays { get; init; } = 3_660;

    /// <summary>
    /// Ranges of 4,096 consecutive ids (<see cref="Collections.IdSet"/> blocks) that a batch's order ids, order item ids and
    /// each day's customer ids may fall on. Dense ids (real data) take few: a million orders take about 9,500. Scattered
    /// ids take one each, and what the batch holds in memory and the key pages Validate claims grow with the ranges, not
    /// with the rows.
    /// </summary>
    public int MaxIdRanges { get; init; } = 200_000;

    /// <summary>
    /// Pages of 65,536 customer ids (<see cref="Kpis.CustomerPages"/>), summed over a batch's days, that its customers may
    /// fall on: Compute records them in one DynamoDB item per version (400 KB, about 36,000 pages). A million orders take
    /// about 550.
    /// </summary>
    public int MaxCustomerPages { get; init; } = 20_000;

    /// <summary>These limits, or an exception naming the first that is not a positive number (a configuration mistake).</summary>
    public BatchLimits Validated()
    {
        foreach (var (name, value) in new (string, long)[]
                 {
                     (nameof(MaxFiles), MaxFiles), (nameof(MaxFileBytes), MaxFileBytes), (nameof(MaxBatchBytes), MaxBatchBytes),
                     (nameof(MaxDecompressedFileBytes), MaxDecompressedFileBytes), (nameof(MaxDecompressedBatchBytes), MaxDecompressedBatchBytes),
                     (nameof(MaxManifestBytes), MaxManifestBytes), (nameof(MaxLineBytes), MaxLineBytes), (nameof(MaxFields), MaxFields),
                     (nameof(MaxCategories), MaxCategories), (nameof(MaxCategoryChars), MaxCategoryChars), (nameof(MaxDays), MaxDays),
                     (nameof(MaxIdRanges), MaxIdRanges), (nameof(MaxCustomerPages), MaxCustomerPages),
                 })
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(name, value, $"{SectionName}:{name} must be at least 1");
            }
        }
        return this;
    }

    /// <summary>
    /// The first limit a batch's files break by their number or sizes as stored, known before any is read; null when none. A
    /// file whose size is not known yet is counted as empty here (the reader stops it at <see cref="MaxFileBytes"/>). What a
    /// compressed part decompresses to is not known before it is read: the reader stops it at
    /// <see cref="MaxDecompressedFileBytes"/> and <see cref="MaxDecompressedBatchBytes"/>.
    /// </summary>
    public LimitBreach? CheckFiles(IReadOnlyList<(string Name, long? Length)> files)
    {
        if (files.Count > MaxFiles)
        {
            return new LimitBreach(ValidationRule.TooManyFiles, files[MaxFiles].Name,
                $"The batch lists {Count(files.Count)} files; at most {Count(MaxFiles)} are allowed ({Name(nameof(MaxFiles))}).");
        }
        long total = 0;
        foreach (var (name, length) in files)
        {
            if (length > MaxFileBytes)
            {
                return new LimitBreach(ValidationRule.FileTooLarge, name, FileTooLargeMessage(length.Value));
            }
            total += length ?? 0;
            if (total > MaxBatchBytes)
            {
                return new LimitBreach(ValidationRule.BatchTooLarge, name,
                    $"The batch's files come to more than {Count(MaxBatchBytes)} bytes by this one; " +
                    $"at most {Count(MaxBatchBytes)} are allowed ({Name(nameof(MaxBatchBytes))}).");
            }
        }
        return null;
    }

    /// <summary>A manifest of <paramref name="bytes"/> bytes, or null when it is within the limit.</summary>
    public LimitBreach? CheckManifest(string name, long bytes) => bytes > MaxManifestBytes
        ? new LimitBreach(ValidationRule.ManifestTooLarge, name,
            $"The manifest is {Count(bytes)} bytes; at most {Count(MaxManifestBytes)} are allowed ({Name(nameof(MaxManifestBytes))}).")
        : null;

    /// <summary>Why a file is too large; <paramref name="bytes"/> is its size, or more than the limit when it was stopped while read.</summary>
    internal string FileTooLargeMessage(long? bytes) => bytes is { } size
        ? $"The file is {Count(size)} bytes; at most {Count(MaxFileBytes)} are allowed ({Name(nameof(MaxFileBytes))})."
        : $"The file is longer than {Count(MaxFileBytes)} bytes ({Name(nameof(MaxFileBytes))}); the rest of it was not read.";

    /// <summary>Why a compressed part was stopped while it was decompressed.</summary>
    internal string DecompressedFileTooLargeMessage() =>
        $"The file decompresses to more than {Count(MaxDecompressedFileBytes)} bytes ({Name(nameof(MaxDecompressedFileBytes))}); " +
        "the rest of it was not read.";

    /// <summary>Why a compressed part was stopped when the batch's compressed parts together decompressed to too much.</summary>
    internal string DecompressedBatchTooLargeMessage() =>
        $"The batch's compressed files decompress to more than {Count(MaxDecompressedBatchBytes)} bytes together by this one " +
        $"({Name(nameof(MaxDecompressedBatchBytes))}); the rest of it was not read.";

    /// <summary>The limit's configuration key, as reports name it: <c>Pipeline:Limits:MaxFiles</c>.</summary>
    internal static string Name(string limit) => $"{SectionName}:{limit}";

    internal static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}

/// <summary>A limit broken: the rule id, the file (or manifest) it concerns and a sentence naming the limit and the value found.</summary>
public sealed record LimitBreach(string Rule, string File, string Message);
