using Pipeline.Engine.Csv;

namespace Pipeline.Engine.Batches;

/// <summary>
/// Finds a batch in a local folder: <c>products.csv</c> plus the parts in <c>orders/</c> and
/// <c>order_items/</c>, or the single files <c>orders.csv</c> and <c>order_items.csv</c>. Any of them may be
/// compressed instead (<c>.csv.gz</c>, <c>.csv.zst</c>: <see cref="PartFormat"/>), plain and compressed mixed.
/// Missing pieces are not an exception here: the processor reports them.
/// </summary>
public static class LocalBatchFolder
{
    public static BatchInput Open(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Batch folder not found: {directory}");
        }

        var parts = new List<BatchPart>();
        AddFiles(parts, directory, TableNames.Products, TableKind.Products);
        AddTable(parts, directory, TableKind.Orders);
        AddTable(parts, directory, TableKind.OrderItems);
        return new BatchInput(parts);
    }

    private static void AddTable(List<BatchPart> parts, string directory, TableKind kind)
    {
        string table = TableNames.Of(kind);
        string folder = Path.Combine(directory, table);
        if (Directory.Exists(folder))
        {
            IEnumerable<string> files = Directory.EnumerateFiles(folder)
                .Select(Path.GetFileName)
                .OfType<string>()
                .Where(PartFormat.IsPartName)
                .Order(NaturalOrder.Instance);
            foreach (string file in files)
            {
                AddFile(parts, directory, $"{table}/{file}", kind);
            }
        }

        AddFiles(parts, directory, table, kind);
    }

    /// <summary>The single file of a table in any of the formats (<c>orders.csv</c>, <c>orders.csv.gz</c>, ...).</summary>
    private static void AddFiles(List<BatchPart> parts, string directory, string table, TableKind kind)
    {
        foreach (string extension in PartFormat.Extensions)
        {
            AddFile(parts, directory, table + extension, kind);
        }
    }

    private static void AddFile(List<BatchPart> parts, string directory, string name, TableKind kind)
    {
        string path = Path.Combine(directory, name);
        if (File.Exists(path))
        {
            parts.Add(BatchPart.FromFile(path, name, kind));
        }
    }
}

/// <summary>Orders names with numbers the way people do: part2 before part10.</summary>
internal sealed class NaturalOrder : IComparer<string>
{
    public static NaturalOrder Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        ReadOnlySpan<char> left = x, right = y;
        while (!left.IsEmpty && !right.IsEmpty)
        {
            if (char.IsAsciiDigit(left[0]) && char.IsAsciiDigit(right[0]))
            {
                ReadOnlySpan<char> leftNumber = LeadingDigits(left).TrimStart('0');
                ReadOnlySpan<char> rightNumber = LeadingDigits(right).TrimStart('0');
                int byValue = leftNumber.Length != rightNumber.Length
                    ? leftNumber.Length.CompareTo(rightNumber.Length)
                    : leftNumber.SequenceCompareTo(rightNumber);
                if (byValue != 0)
                {
                    return byValue;
                }

                left = left[LeadingDigits(left).Length..];
                right = right[LeadingDigits(right).Length..];
                continue;
            }

            int byChar = left[0].CompareTo(right[0]);
            if (byChar != 0)
            {
                return byChar;
            }

            left = left[1..];
            right = right[1..];
        }

        return left.Length.CompareTo(right.Length);
    }

    private static ReadOnlySpan<char> LeadingDigits(ReadOnlySpan<char> text)
    {
        int end = text.IndexOfAnyExceptInRange('0', '9');
        return end < 0 ? text : text[..end];
    }
}
