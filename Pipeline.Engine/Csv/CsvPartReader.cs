using System.Runtime.CompilerServices;
using nietras.SeparatedValues;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Transform;
using Pipeline.Engine.Validation;

namespace Pipeline.Engine.Csv;

/// <summary>
/// Streams one CSV part through the guard and Sep: maps the header to the schema, reports structural
/// problems per row and hands well-formed rows to the table's handler. Memory is bounded by Sep's
/// buffer, the line limit and (for a compressed part) the decoder's window, whatever the file size.
/// </summary>
internal static class CsvPartReader
{
    private static readonly SepReaderOptions ReaderOptions = Sep.New(',').Reader(options => options with
    {
        Unescape = true,
        DisableColCountCheck = true, // a wrong field count is a reported error, not an exception
    });

    /// <summary>Reads the part; false when it could not be read as a table (so its keys are incomplete).</summary>
    public static bool Read(
        BatchPart part,
        IRowHandler handler,
        FileDiagnostics diagnostics,
        EngineOptions options,
        ProgressCounter? progress,
        DecompressedBytes? batchDecompressed,
        CancellationToken cancellationToken)
    {
        TableSchema schema = TableSchema.For(part.Table);
        using var guard = new CsvInputGuard(OpenedPart.Open(part, progress), options.Limits, batchDecompressed);
        SepReader reader;
        try
        {
            reader = ReaderOptions.From(guard); // reads and parses the header
        }
        catch (ArgumentException duplicate)
        {
            // Sep refuses a header that names a column twice.
            diagnostics.Report(ValidationRule.DuplicateColumn, 1, null, default, duplicate.Message);
            return false;
        }
        catch (InputLimitException limit)
        {
            diagnostics.Report(limit.Rule, limit.Line, null, default, limit.Message);
            return false;
        }

        using (reader)
        {
            try
            {
                return ReadRows(reader, guard, schema, handler, diagnostics, options.Limits.MaxFields, cancellationToken);
            }
            catch (InputLimitException limit)
            {
                ReportFindings(guard, diagnostics, limit.Line, default);
                // Rows decoded from a damaged compressed part may be garbage: the damage is what the report leads with.
                diagnostics.Report(limit.Rule, limit.Line, null, default, limit.Message, first: limit.Rule == ValidationRule.CorruptCompressed);
                return false;
            }
        }
    }

    // This loop and the per-row code it runs (findings check, field access, row handlers, field parsers, KPI and id set
    // updates) are compiled optimized at once: a batch is one pass, and tiered compilation would run them unoptimized
    // first, then compile them again (docs/engine-performance.md).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool ReadRows(
        SepReader reader,
        CsvInputGuard guard,
        TableSchema schema,
        IRowHandler handler,
        FileDiagnostics diagnostics,
        int maxFields,
        CancellationToken cancellationToken)
    {
        if (guard.BytesRead == 0)
        {
            diagnostics.Report(ValidationRule.EmptyFile, 0, null, default);
            return false;
        }

        int headerCount = reader.Header.ColNames.Count;
        if (headerCount > maxFields)
        {
            diagnostics.Report(ValidationRule.TooManyFields, 1, null, default, TooManyFields(headerCount, maxFields));
            return false;
        }

        if (!TryMapHeader(reader.Header, schema, diagnostics, out int[] columnMap))
        {
            // The rows are not read, so only what the guard saw on the header line matters.
            ReportFindings(guard, diagnostics, 2, default);
            return false;
        }

        foreach (SepReader.Row row in reader)
        {
            bool malformed = ReportFindings(guard, diagnostics, row.LineNumberToExcl, new RowShape(row, reader.Header));
            if (row.Span.IsEmpty)
            {
                continue; // blank lines are skipped, as the system we replace did
            }

            diagnostics.RowsRead++;
            if (malformed)
            {
                continue;
            }

            if (row.ColCount > maxFields)
            {
                diagnostics.Report(ValidationRule.TooManyFields, row.LineNumberFrom, null, default, TooManyFields(row.ColCount, maxFields));
                continue;
            }

            if (row.ColCount != headerCount)
            {
                diagnostics.Report(
                    ValidationRule.FieldCount,
                    row.LineNumberFrom,
                    null,
                    row.Span,
                    $"The row has {row.ColCount} fields; the header has {headerCount}.");
                continue;
            }

            try
            {
                handler.Handle(new RowContext(row, columnMap, schema, diagnostics));
            }
            catch (IdsTooScatteredException scattered)
            {
                // The ids of this row would take the batch beyond its id ranges: reading on would only take more.
                diagnostics.Report(ValidationRule.IdsTooScattered, row.LineNumberFrom, null, default, scattered.Message);
                return false;
            }

            if ((diagnostics.RowsRead & 0x3FFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        ReportFindings(guard, diagnostics, long.MaxValue, default);
        return true;
    }

    private static string TooManyFields(int fields, int maxFields) =>
        $"The row has {BatchLimits.Count(fields)} fields; " +
        $"at most {BatchLimits.Count(maxFields)} are allowed ({BatchLimits.Name(nameof(BatchLimits.MaxFields))}).";

    private static bool TryMapHeader(SepReaderHeader header, TableSchema schema, FileDiagnostics diagnostics, out int[] columnMap)
    {
        columnMap = new int[schema.Columns.Count];
        bool complete = true;
        for (int column = 0; column < schema.Columns.Count; column++)
        {
            if (!header.TryIndexOf(schema.Columns[column], out columnMap[column]))
            {
                diagnostics.Report(ValidationRule.MissingColumn, 1, schema.Columns[column], default);
                complete = false;
            }
        }

        return complete;
    }

    /// <summary>
    /// Reports the guard's findings on lines before <paramref name="endLine"/>; true when one of them
    /// falls within the current row, which is then not validated further.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool ReportFindings(CsvInputGuard guard, FileDiagnostics diagnostics, long endLine, RowShape row)
    {
        // Called for every row: no lambdas here, a capturing one would allocate on each call.
        List<StructuralFinding> findings = guard.Findings;
        if (findings.Count == 0)
        {
            return false;
        }

        findings.Sort(static (left, right) => left.Line.CompareTo(right.Line));
        int reported = 0;
        bool inRow = false;
        for (; reported < findings.Count && findings[reported].Line < endLine; reported++)
        {
            StructuralFinding finding = findings[reported];
            bool ofThisRow = row.Covers(finding.Line);
            inRow |= ofThisRow;
            int fieldIndex = ofThisRow ? row.FieldOf(finding.Rule) : -1;
            diagnostics.Report(finding.Rule, finding.Line, row.ColumnName(fieldIndex), row.FieldText(fieldIndex));
        }

        findings.RemoveRange(0, reported);
        return inRow;
    }

    /// <summary>Where in the current row a structural finding points (all empty when there is no row).</summary>
    private readonly ref struct RowShape(SepReader.Row row, SepReaderHeader? header)
    {
        private readonly SepReader.Row _row = row;

        public bool Covers(long line) => header is not null && line >= _row.LineNumberFrom && line < _row.LineNumberToExcl;

        public int FieldOf(string rule)
        {
            if (rule == ValidationRule.UnterminatedQuote)
            {
                return _row.ColCount - 1; // the open quote swallowed the rest of the file into the last field
            }

            if (rule == ValidationRule.InvalidUtf8)
            {
                for (int index = 0; index < _row.ColCount; index++)
                {
                    if (_row[index].Span.Contains('\uFFFD'))
                    {
                        return index;
                    }
                }
            }

            return -1;
        }

        public string? ColumnName(int fieldIndex) =>
            header is not null && fieldIndex >= 0 && fieldIndex < header.ColNames.Count ? header.ColNames[fieldIndex] : null;

        public ReadOnlySpan<char> FieldText(int fieldIndex) =>
            header is null ? default : fieldIndex >= 0 ? _row[fieldIndex].Span : _row.Span;
    }
}
