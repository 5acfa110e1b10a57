using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace Pipeline.Engine.Transform;

/// <summary>
/// Reads bytes, 7-bit varints (as <see cref="BinaryWriter.Write7BitEncodedInt64"/> writes them) and length-prefixed UTF-8
/// strings from a stream through a buffer of its own. A <see cref="BinaryReader"/> reads a varint one byte at a time, each
/// through two streams' virtual calls; read from the buffer, an enriched file reads about a tenth faster (inflating it is
/// most of what is left). The end of the stream in a value is an <see cref="EndOfStreamException"/>; a varint longer than
/// its type, an <see cref="InvalidDataException"/> (a <see cref="BinaryReader"/> throws a <see cref="FormatException"/>).
/// </summary>
internal sealed class VarintReader(Stream input, int bufferSize)
{
    /// <summary>The most bytes a 64-bit varint takes (its tenth holds one bit).</summary>
    private const int MaxVarintBytes = 10;

    private readonly byte[] _buffer = new byte[bufferSize];
    private int _position;
    private int _length;

    /// <summary>Whether the stream has no byte left.</summary>
    public bool AtEnd => _position == _length && !Fill();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte ReadByte() => _position < _length ? _buffer[_position++] : ReadByteAfterFill();

    private byte ReadByteAfterFill() => Fill() ? _buffer[_position++] : throw new EndOfStreamException();

    /// <summary>Up to <paramref name="count"/> bytes: fewer only at the end of the stream.</summary>
    public byte[] ReadBytes(int count)
    {
        var bytes = new List<byte>(count);
        while (bytes.Count < count && !AtEnd)
        {
            bytes.Add(_buffer[_position++]);
        }
        return [.. bytes];
    }

    /// <summary>A varint that <see cref="BinaryWriter.Write7BitEncodedInt64"/> wrote: a <c>long</c>'s 64 bits.</summary>
    public long ReadVarint64()
    {
        ulong value = 0;
        for (int shift = 0; shift < 7 * MaxVarintBytes; shift += 7)
        {
            byte next = ReadByte();
            value |= (ulong)(next & 0x7F) << shift;
            if (next < 0x80)
            {
                return shift == 7 * (MaxVarintBytes - 1) && next > 1 ? throw TooLong() : (long)value;
            }
        }
        throw TooLong();
    }

    /// <summary>A varint that <see cref="BinaryWriter.Write7BitEncodedInt"/> wrote: an <c>int</c>'s 32 bits.</summary>
    public int ReadVarint32()
    {
        ulong value = (ulong)ReadVarint64();
        return value <= uint.MaxValue ? (int)(uint)value : throw TooLong();
    }

    /// <summary>A string as <see cref="BinaryWriter.Write(string)"/> writes it: its UTF-8 length as a varint, then its bytes.</summary>
    public string ReadString()
    {
        int length = ReadVarint32();
        if (length < 0)
        {
            throw new InvalidDataException($"a string's length is {(uint)length} bytes");
        }
        if (_length - _position >= length)
        {
            string text = Encoding.UTF8.GetString(_buffer, _position, length);
            _position += length;
            return text;
        }
        // Gathered as it comes rather than allocated from the length, which a corrupt file may make huge.
        var bytes = new ArrayBufferWriter<byte>();
        while (bytes.WrittenCount < length)
        {
            if (_position == _length && !Fill())
            {
                throw new EndOfStreamException();
            }
            int take = Math.Min(length - bytes.WrittenCount, _length - _position);
            bytes.Write(_buffer.AsSpan(_position, take));
            _position += take;
        }
        return Encoding.UTF8.GetString(bytes.WrittenSpan);
    }

    private bool Fill()
    {
        _position = 0;
        _length = input.Read(_buffer, 0, _buffer.Length);
        return _length > 0;
    }

    private static InvalidDataException TooLong() => new("a varint is longer than its type allows");
}
