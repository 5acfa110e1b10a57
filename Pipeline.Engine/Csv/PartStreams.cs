using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using Pipeline.Engine.Batches;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Pipeline.Engine.Csv;

/// <summary>
/// A compressed part that cannot be decompressed: corrupt, truncated or not in the format its name says.
/// <see cref="Exception.Message"/> names the format and the byte offset in the file as stored.
/// </summary>
internal sealed class CorruptPartException(string message) : IOException(message);

/// <summary>
/// One part opened for reading: <see cref="Data"/> is its CSV (decompressed on the fly for <c>.csv.gz</c> and
/// <c>.csv.zst</c>), <see cref="StoredBytes"/> the bytes read of the file as stored (what progress and the stored-size
/// limits count). Only the decoder's window and buffers are held, whatever the part's size.
/// </summary>
internal sealed class OpenedPart : IDisposable
{
    /// <summary>Zstandard frames that need a larger window (<c>zstd --long</c>) are refused: 2^23 bytes (8 MiB) a part.</summary>
    public const int ZstdWindowLogMax = 23;

    private readonly StoredBytesStream _stored;

    private OpenedPart(BatchPart part, ProgressCounter? progress)
    {
        Compression = PartFormat.CompressionOf(part.Name) ?? PartCompression.None;
        _stored = new StoredBytesStream(part.Open(), progress);
        Data = Compression == PartCompression.None ? _stored : new DecodingStream(_stored, Compression);
    }

    public static OpenedPart Open(BatchPart part, ProgressCounter? progress) => new(part, progress);

    public PartCompression Compression { get; }

    public Stream Data { get; }

    public long StoredBytes => _stored.BytesRead;

    public void Dispose() => Data.Dispose();

    /// <summary>Counts the bytes read of the stored file and keeps its last 8 (a gzip file's trailer).</summary>
    private sealed class StoredBytesStream(Stream inner, ProgressCounter? progress) : ReadOnlyStream
    {
        private readonly byte[] _tail = new byte[8];

        public long BytesRead { get; private set; }

        public bool Ended { get; private set; }

        /// <summary>The last 8 bytes read, or fewer when the file is shorter.</summary>
        public ReadOnlySpan<byte> Tail => _tail.AsSpan((int)(8 - Math.Min(8, BytesRead)));

        public override int Read(Span<byte> buffer)
        {
            int read = inner.Read(buffer);
            if (read == 0)
            {
                Ended = buffer.Length > 0;
                return 0;
            }

            if (read >= 8)
            {
                buffer.Slice(read - 8, 8).CopyTo(_tail);
            }
            else
            {
                _tail.AsSpan(read).CopyTo(_tail);
                buffer[..read].CopyTo(_tail.AsSpan(8 - read));
            }

            BytesRead += read;
            progress?.Add(read);
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// Decompresses, and turns every way the data can be bad into a <see cref="CorruptPartException"/> with the byte offset
    /// reached. A gzip file's trailer (CRC-32 and length of the data) is checked at its end, because the gzip decoder stops
    /// quietly where a truncated file ends; a Zstandard frame's checksum, when it has one, is checked by the decoder.
    /// </summary>
    private sealed class DecodingStream : ReadOnlyStream
    {
        private readonly StoredBytesStream _stored;
        private readonly PartCompression _compression;
        private readonly Stream _decoder;
        private readonly Crc32? _crc;
        private long _length;
        private bool _verified;

        public DecodingStream(StoredBytesStream stored, PartCompression compression)
        {
            _stored = stored;
            _compression = compression;
            if (compression == PartCompression.Gzip)
            {
                _decoder = new GZipStream(stored, CompressionMode.Decompress, leaveOpen: false);
                _crc = new Crc32();
            }
            else
            {
                var zstd = new DecompressionStream(stored, leaveOpen: false);
                zstd.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, ZstdWindowLogMax);
                _decoder = zstd;
            }
        }

        public override int Read(Span<byte> buffer)
        {
            int read;
            try
            {
                read = _decoder.Read(buffer);
            }
            catch (Exception bad) when (bad is InvalidDataException or ZstdException || (bad is EndOfStreamException && _stored.Ended))
            {
                throw Corrupt($"is corrupt at or before byte {BatchLimits.Count(_stored.BytesRead)} of the file ({bad.Message})");
            }

            if (read > 0)
            {
                _crc?.Append(buffer[..read]);
                _length += read;
            }
            else if (buffer.Length > 0 && !_verified)
            {
                _verified = true;
                VerifyGzipTrailer();
            }

            return read;
        }

        private void VerifyGzipTrailer()
        {
            if (_crc is null || _stored.BytesRead == 0)
            {
                return; // Zstandard checks its own frames; an empty file is reported as empty
            }

            ReadOnlySpan<byte> tail = _stored.Tail;
            if (tail.Length < 8 || BinaryPrimitives.ReadUInt32LittleEndian(tail) != _crc.GetCurrentHashAsUInt32()
                || BinaryPrimitives.ReadUInt32LittleEndian(tail[4..]) != (uint)_length)
            {
                throw Corrupt(
                    $"ends at byte {BatchLimits.Count(_stored.BytesRead)} of the file without the checksum and length of the " +
                    $"{BatchLimits.Count(_length)} bytes it decompressed to: the file is truncated or corrupt " +
                    "(or is several gzip streams joined together: compress the CSV as one)");
            }
        }

        private CorruptPartException Corrupt(string what) => new($"The {PartFormat.Name(_compression)} data {what}.");

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _decoder.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>A forward-only stream that is only read.</summary>
internal abstract class ReadOnlyStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public abstract override int Read(Span<byte> buffer);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
