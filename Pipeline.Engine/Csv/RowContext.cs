using System.Runtime.CompilerServices;
using nietras.SeparatedValues;
using Pipeline.Engine.Curated;
using Pipeline.Engine.Transform;
using Pipeline.Engine.Validation;

namespace Pipeline.Engine.Csv;

/// <summary>
/// One data row seen through the table's schema: fields by schema column index, and checks that
/// report a violation (rule, line, column, value) and return false, so a handler can run them all
/// with <c>&amp;=</c> and report every problem of the row, not only the first.
/// </summary>
internal readonly ref struct RowContext(SepReader.Row row, int[] columnMap, TableSchema schema, FileDiagnostics diagnostics)
{
    private readonly SepReader.Row _row = row;

    public long Line => _row.LineNumberFrom;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ReadOnlySpan<char> Field(int column) => _row[columnMap[column]].Span;

    public bool Report(string rule, int column, string? message = null)
    {
        diagnostics.Report(rule, Line, schema.Columns[column], Field(column), message);
        return false;
    }

    public bool RequireValue(int column) => !Field(column).IsEmpty || Report(ValidationRule.RequiredValue, column);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool RequireId(int column, out long id) =>
        FieldParsers.TryParsePositiveId(Field(column), out id) || ReportInvalid(column, ValidationRule.InvalidId);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool RequireCount(int column, out int count) =>
        FieldParsers.TryParsePositiveCount(Field(column), out count) || ReportInvalid(column, ValidationRule.InvalidItemCount);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool RequireStatus(int column, out OrderStatus status) =>
        FieldParsers.TryParseStatus(Field(column), out status) || ReportInvalid(column, ValidationRule.InvalidStatus);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool RequireCreatedAt(int column, out DateOnly date) =>
        FieldParsers.TryParseTimestamp(Field(column), out date) || ReportInvalid(column, ValidationRule.InvalidCreatedAt);

    /// <summary>An item's created_at as the instant (UTC), parsed once: its date is the item's order date.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool RequireCreatedAt(int column, out DateTime createdAt) =>
        FieldParsers.TryParseUtcTimestamp(Field(column), out createdAt) || ReportInvalid(column, ValidationRule.InvalidCreatedAt);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool RequireSalePrice(int column, out decimal price) =>
        (FieldParsers.TryParseSalePrice(Field(column), out price) && CuratedColumns.Holds(price)) || ReportInvalid(column, ValidationRule.InvalidSalePrice);

    /// <summary>The row's order date is one of the batch's days, or there is room for one more.</summary>
    public bool WithinDays(BatchDays days, int column, DateOnly date) =>
        days.TryAdd(date) || Report(ValidationRule.TooManyDays, column, days.LimitMessage);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool OptionalTimestamp(int column)
    {
        ReadOnlySpan<char> text = Field(column);
        return text.IsEmpty || FieldParsers.IsTimestamp(text) || Report(ValidationRule.InvalidTimestamp, column);
    }

    /// <summary>An optional timestamp with its instant (UTC): null where the field is empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool OptionalTimestamp(int column, out DateTime? value)
    {
        value = null;
        ReadOnlySpan<char> text = Field(column);
        if (text.IsEmpty)
        {
            return true;
        }
        if (FieldParsers.TryParseUtcTimestamp(text, out DateTime parsed))
        {
            value = parsed;
            return true;
        }
        return Report(ValidationRule.InvalidTimestamp, column);
    }

    /// <summary>An empty critical value is reported as missing, anything else as malformed.</summary>
    private bool ReportInvalid(int column, string rule) =>
        Report(Field(column).IsEmpty ? ValidationRule.RequiredValue : rule, column);
}

/// <summary>Validates one table's rows and feeds the valid ones onward.</summary>
internal interface IRowHandler
{
    void Handle(in RowContext row);
}
