using System.Text;
using System.Text.Unicode;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Validation;

namespace Pipeline.Engine.Csv;

/// <summary>A structural problem the guard saw at a line, for the row reader to report with its row.</summary>
internal readonly record struct StructuralFinding(long Line, string Rule);

/// <summary>
/// Thrown when a record grows past the line limit, or the file past the file limit: reading further would take
/// unbounded memory or time, so the rest of the file is not read. <see cref="Rule"/> and <see cref="IOException.Message"/> are for the report.
/// </summary>
internal sealed class InputLimitException(string rule, long line, string message) : IOException(message)
{
    public string Rule { get; } = rule;

    public long Line { get; } = line;
}

/// <summary>
/// Sits between the part's bytes (decompressed, for a compressed part) and the CSV parser and checks what a parser that
/// decodes text cannot: invalid UTF-8 (the decoder would silently replace it), records longer than the line limit
/// (stopped before they are buffered, so memory stays bounded), files longer than the file limit (whatever size they
/// were announced with), compressed parts that decompress to more than their limits or cannot be decompressed, and a
/// quote still open at the end of the file.
/// It reads the input in chunks, ends each chunk on a whole UTF-8 sequence so it can be validated on its
/// own, and tracks lines and quote state the way RFC 4180 does (a doubled quote toggles twice).
/// </summary>
/// <param name="batchDecompressed">The batch's decompressed bytes so far, shared by its parts; null when the part is read again.</param>
internal sealed class CsvInputGuard(OpenedPart part, BatchLimits limits, DecompressedBytes? batchDecompressed) : Stream
{
    private readonly int _maxRecordBytes = limits.MaxLineBytes;

    // Small next to the line limit, so the no-quote fast path in Inspect applies to almost every chunk.
    private const int ChunkSize = 16 * 1024;

    private readonly List<StructuralFinding> _findings = [];
    private readonly byte[] _chunk = new byte[ChunkSize];
    private int _checkedStart;
    private int _checkedEnd;
    private int _heldBackLength;
    private long _line = 1;
    private bool _inQuotes;
    private long _quoteOpenLine;
    private long _recordStart;
    private long _recordStartLine = 1;
    private bool _ended;

    /// <summary>Findings not yet claimed by the reader (the reader removes what it reports).</summary>
    public List<StructuralFinding> Findings => _findings;

    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_checkedStart == _checkedEnd && !FillChecked())
        {
            return 0;
        }

        int count = Math.Min(buffer.Length, _checkedEnd - _checkedStart);
        _chunk.AsSpan(_checkedStart, count).CopyTo(buffer);
        _checkedStart += count;
        return count;
    }

    /// <summary>
    /// Reads the next chunk and inspects it. A UTF-8 sequence cut at the end of the chunk is held
    /// back for the next one, so every chunk can be validated on its own.
    /// </summary>
    private bool FillChecked()
    {
        while (true)
        {
            _chunk.AsSpan(_checkedEnd, _heldBackLength).CopyTo(_chunk);
            int read;
            try
            {
                read = part.Data.Read(_chunk.AsSpan(_heldBackLength));
            }
            catch (CorruptPartException corrupt)
            {
                throw new InputLimitException(ValidationRule.CorruptCompressed, _line, corrupt.Message);
            }

            int available = _heldBackLength + read;
            if (available == 0)
            {
                OnEnd();
                return false;
            }

            // At the end of the input an incomplete sequence is passed on (and reported as invalid).
            int complete = read == 0 ? available : available - IncompleteTailLength(_chunk.AsSpan(0, available));
            _heldBackLength = available - complete;
            _checkedStart = 0;
            _checkedEnd = complete;
            if (complete > 0)
            {
                Inspect(_chunk.AsSpan(0, complete));
                CheckSize(complete);
                return true;
            }
        }
    }

    /// <summary>Stops the part at the first size limit it breaks: as stored, decompressed, or the batch's decompressed bytes.</summary>
    private void CheckSize(int decompressed)
    {
        if (part.StoredBytes > limits.MaxFileBytes)
        {
            throw new InputLimitException(ValidationRule.FileTooLarge, _line, limits.FileTooLargeMessage(null));
        }

        if (part.Compression == PartCompression.None)
        {
            return;
        }

        if (BytesRead > limits.MaxDecompressedFileBytes)
        {
            throw new InputLimitException(ValidationRule.DecompressedFileTooLarge, _line, limits.DecompressedFileTooLargeMessage());
        }

        if (batchDecompressed?.Add(decompressed) > limits.MaxDecompressedBatchBytes)
        {
            throw new InputLimitException(ValidationRule.DecompressedBatchTooLarge, _line, limits.DecompressedBatchTooLargeMessage());
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            part.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Length of a UTF-8 sequence cut off at the end of the chunk (0 when none is).</summary>
    private static int IncompleteTailLength(ReadOnlySpan<byte> chunk)
    {
        for (int back = 1; back <= Math.Min(3, chunk.Length); back++)
        {
            byte b = chunk[^back];
            if ((b & 0b1100_0000) == 0b1000_0000)
            {
                continue; // continuation byte: the lead is further back
            }

            int expected = b >= 0b1111_0000 ? 4 : b >= 0b1110_0000 ? 3 : b >= 0b1100_0000 ? 2 : 1;
            return expected > back ? back : 0;
        }

        return 0;
    }

    private void Inspect(ReadOnlySpan<byte> chunk)
    {
        if (!Utf8.IsValid(chunk))
        {
            FindInvalidUtf8(chunk);
        }

        long chunkStart = BytesRead;
        bool noRecordCanBeTooLong = chunkStart + chunk.Length - _recordStart <= _maxRecordBytes;
        if (!_inQuotes && noRecordCanBeTooLong && !chunk.Contains((byte)'"'))
        {
            // The common case: no quotes, so every newline ends a record; only counting is left.
            int newlines = chunk.Count((byte)'\n');
            if (newlines > 0)
            {
                _line += newlines;
                _recordStart = chunkStart + chunk.LastIndexOf((byte)'\n') + 1;
                _recordStartLine = _line;
            }

            BytesRead += chunk.Length;
            return;
        }

        int position = 0;
        while (true)
        {
            int next = chunk[position..].IndexOfAny((byte)'"', (byte)'\n');
            if (next < 0)
            {
                break;
            }

            position += next;
            if (chunk[position] == '"')
            {
                _inQuotes = !_inQuotes;
                _quoteOpenLine = _inQuotes ? _line : _quoteOpenLine;
            }
            else
            {
                _line++;
                if (!_inQuotes)
                {
                    EndRecord(chunkStart + position);
                }
            }

            position++;
        }

        BytesRead += chunk.Length;
        if (BytesRead - _recordStart > _maxRecordBytes)
        {
            throw new InputLimitException(ValidationRule.LineTooLong, _recordStartLine,
                $"The row is longer than {BatchLimits.Count(_maxRecordBytes)} bytes ({BatchLimits.Name(nameof(BatchLimits.MaxLineBytes))}); " +
                "the rest of the file was not read.");
        }
    }

    private void EndRecord(long newlineOffset)
    {
        if (newlineOffset - _recordStart > _maxRecordBytes)
        {
            _findings.Add(new StructuralFinding(_recordStartLine, ValidationRule.LineTooLong));
        }

        _recordStart = newlineOffset + 1;
        _recordStartLine = _line;
    }

    /// <summary>The slow path, taken only for a chunk that has invalid bytes: one finding per line.</summary>
    private void FindInvalidUtf8(ReadOnlySpan<byte> chunk)
    {
        long line = _line;
        long lastReportedLine = 0;
        ReadOnlySpan<byte> rest = chunk;
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(rest, out _, out int consumed) != System.Buffers.OperationStatus.Done && line != lastReportedLine)
            {
                _findings.Add(new StructuralFinding(line, ValidationRule.InvalidUtf8));
                lastReportedLine = line;
            }

            line += rest[..consumed].Count((byte)'\n');
            rest = rest[consumed..];
        }
    }

    private void OnEnd()
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        if (_inQuotes)
        {
            _findings.Add(new StructuralFinding(_quoteOpenLine, ValidationRule.UnterminatedQuote));
        }
    }
}
