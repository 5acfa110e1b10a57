namespace Pipeline.Engine.Validation;

/// <summary>
/// Stable rule ids. Reports, dashboards and tests key on these strings: never rename one, only add.
/// </summary>
public static class ValidationRule
{
    public const string MissingFile = "batch.missing_file";
    public const string EmptyFile = "file.empty";
    public const string MissingColumn = "header.missing_column";
    public const string DuplicateColumn = "header.duplicate_column";
    public const string FieldCount = "row.field_count";
    public const string UnterminatedQuote = "row.unterminated_quote";
    public const string InvalidUtf8 = "row.invalid_utf8";
    public const string LineTooLong = "row.too_long";
    public const string TooManyFields = "row.too_many_fields";
    public const string RequiredValue = "field.required";
    public const string InvalidId = "field.invalid_id";
    public const string InvalidStatus = "field.invalid_status";
    public const string InvalidCreatedAt = "field.invalid_created_at";
    public const string InvalidTimestamp = "field.invalid_timestamp";
    public const string InvalidSalePrice = "field.invalid_sale_price";
    public const string InvalidItemCount = "field.invalid_num_of_item";
    public const string DuplicateKey = "key.duplicate";
    public const string UnknownOrder = "ref.unknown_order";
    public const string UnknownProduct = "ref.unknown_product";

    // Limits (BatchLimits): each names its limit and the value found.
    public const string TooManyFiles = "batch.too_many_files";
    public const string FileTooLarge = "file.too_large";
    public const string BatchTooLarge = "batch.too_large";
    public const string CategoryTooLong = "field.category_too_long";
    public const string TooManyCategories = "batch.too_many_categories";
    public const string TooManyDays = "batch.too_many_days";
    public const string IdsTooScattered = "batch.ids_too_scattered";
    public const string DecompressedFileTooLarge = "file.decompressed_too_large";
    public const string DecompressedBatchTooLarge = "batch.decompressed_too_large";

    /// <summary>A <c>.csv.gz</c> or <c>.csv.zst</c> part that cannot be decompressed (corrupt, truncated, not that format).</summary>
    public const string CorruptCompressed = "file.corrupt_compressed";

    /// <summary>Not found by the engine: the manifest in S3 is larger than the limit, so it is not read.</summary>
    public const string ManifestTooLarge = "manifest.too_large";

    /// <summary>Not found by the engine: the manifest is missing, malformed or lists keys outside the batch, or a listed file is missing.</summary>
    public const string UnreadableManifest = "manifest";

    /// <summary>Not found by reading the batch alone: the key is already counted in another batch in force.</summary>
    public const string SeenInBatch = "key.seen_in_batch";

    /// <summary>A sentence a person understands, for the report.</summary>
    public static string Describe(string rule) => rule switch
    {
        MissingFile => "The batch has no such file or folder of parts.",
        EmptyFile => "The file is empty (0 bytes); even an empty part needs its header line.",
        MissingColumn => "A required column is missing from the header.",
        DuplicateColumn => "A column name appears more than once in the header.",
        FieldCount => "The row does not have as many fields as the header.",
        UnterminatedQuote => "A quoted field is never closed; the rest of the file was read as one field.",
        InvalidUtf8 => "The row contains bytes that are not valid UTF-8.",
        LineTooLong => "The row is longer than the line length limit (Pipeline:Limits:MaxLineBytes).",
        TooManyFields => "The row has more fields than the limit (Pipeline:Limits:MaxFields).",
        RequiredValue => "This value may not be empty.",
        InvalidId => "An id must be a positive integer.",
        InvalidStatus => "The status must be one of delivered, returned, shipped, pending.",
        InvalidCreatedAt => "created_at must be a real date and time written yyyy-MM-ddTHH:mm:ss.",
        InvalidTimestamp => "A timestamp must be empty or a real date and time written yyyy-MM-ddTHH:mm:ss.",
        InvalidSalePrice => "sale_price must be a non-negative decimal like 12.5 (no sign, no thousands separators), " +
            "below 10^20 with at most 18 decimal places (what the curated Parquet holds exactly).",
        InvalidItemCount => "num_of_item must be a positive integer.",
        DuplicateKey => "This key appears more than once in the batch.",
        UnknownOrder => "The item's order_id is not among the batch's orders.",
        UnknownProduct => "The item's product_id is not in products.csv.",
        TooManyFiles => "The batch lists more files than the limit (Pipeline:Limits:MaxFiles).",
        FileTooLarge => "The file is larger than the limit (Pipeline:Limits:MaxFileBytes).",
        BatchTooLarge => "The batch's files are larger together than the limit (Pipeline:Limits:MaxBatchBytes).",
        CategoryTooLong => "The category name is longer than the limit (Pipeline:Limits:MaxCategoryChars).",
        TooManyCategories => "The products file names more distinct categories than the limit (Pipeline:Limits:MaxCategories).",
        TooManyDays => "The batch's orders and items fall on more distinct days than the limit (Pipeline:Limits:MaxDays).",
        DecompressedFileTooLarge => "The compressed file decompresses to more than the limit (Pipeline:Limits:MaxDecompressedFileBytes).",
        DecompressedBatchTooLarge =>
            "The batch's compressed files decompress to more than the limit together (Pipeline:Limits:MaxDecompressedBatchBytes).",
        CorruptCompressed => "The compressed file cannot be decompressed: it is corrupt, truncated or not in the format its name says.",
        IdsTooScattered => "The batch's ids are spread over more ranges than the limit (Pipeline:Limits:MaxIdRanges, Pipeline:Limits:MaxCustomerPages).",
        ManifestTooLarge => "The manifest is larger than the limit (Pipeline:Limits:MaxManifestBytes).",
        UnreadableManifest => "The manifest cannot be read as this batch's.",
        SeenInBatch => "This key is already counted in another batch in force: replace or retract that batch first, or leave the key out.",
        _ => rule,
    };
}
