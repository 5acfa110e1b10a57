using System.Buffers.Text;
using System.Diagnostics;
using CsvHelper;
using nietras.SeparatedValues;
using Pipeline.Engine.Validation;
using static Benchmarks.Figures;

namespace Pipeline.Benchmarks;

/// <summary>
/// The measurement behind the parser choice: each candidate streams the same order_items files,
/// touches every field and parses sale_price, on one thread. Best of a few runs.
/// </summary>
internal static class ParserComparison
{
    private const int SalePriceColumn = 9;

    public static void Run(IReadOnlyList<string> files, int runs)
    {
        long bytes = files.Sum(file => new FileInfo(file).Length);
        Console.WriteLine($"{files.Count} files, {bytes / 1e6:F1} MB, best of {runs} runs, one thread; load average {LoadAverage()}");
        Measure("Sep 0.17.1", files, bytes, runs, ReadWithSep);
        Measure("Sylvan.Data.Csv 1.4.4", files, bytes, runs, ReadWithSylvan);
        Measure("CsvHelper 34.0.0 (UTF-8 bytes)", files, bytes, runs, ReadWithCsvHelper);
    }

    private static void Measure(string name, IReadOnlyList<string> files, long bytes, int runs, Func<string, (long Rows, decimal Sum)> read)
    {
        double best = double.MaxValue;
        long rows = 0;
        decimal sum = 0;
        for (int run = 0; run < runs; run++)
        {
            var stopwatch = Stopwatch.StartNew();
            rows = 0;
            sum = 0;
            foreach (string file in files)
            {
                (long fileRows, decimal fileSum) = read(file);
                rows += fileRows;
                sum += fileSum;
            }

            best = Math.Min(best, stopwatch.Elapsed.TotalSeconds);
        }

        Console.WriteLine($"{name,-30} {best,7:F3} s {bytes / 1e6 / best,8:F1} MB/s {rows / best / 1e6,6:F2} M rows/s (rows {rows}, sum {sum})");
    }

    private static (long Rows, decimal Sum) ReadWithSep(string file)
    {
        using SepReader reader = Sep.New(',').Reader(options => options with { Unescape = true }).FromFile(file);
        long rows = 0, characters = 0;
        decimal sum = 0;
        foreach (SepReader.Row row in reader)
        {
            for (int column = 0; column < row.ColCount; column++)
            {
                characters += row[column].Span.Length;
            }

            sum += Price(row[SalePriceColumn].Span);
            rows++;
        }

        return (rows, sum + (characters * 0));
    }

    private static (long Rows, decimal Sum) ReadWithSylvan(string file)
    {
        using Sylvan.Data.Csv.CsvDataReader reader = Sylvan.Data.Csv.CsvDataReader.Create(file);
        long rows = 0, characters = 0;
        decimal sum = 0;
        while (reader.Read())
        {
            for (int column = 0; column < reader.FieldCount; column++)
            {
                characters += reader.GetFieldSpan(column).Length;
            }

            sum += Price(reader.GetFieldSpan(SalePriceColumn));
            rows++;
        }

        return (rows, sum + (characters * 0));
    }

    private static (long Rows, decimal Sum) ReadWithCsvHelper(string file)
    {
        // CsvHelper 34 reads UTF-8 bytes directly; fields come as byte spans.
        using CsvReader reader = CsvReader.FromFile(file, CsvReaderOptions.Default with { Separator = ',' }, FileOptions.SequentialScan);
        long rows = 0, bytes = 0;
        decimal sum = 0;
        while (reader.Read())
        {
            for (int column = 0; column < reader.FieldCount; column++)
            {
                bytes += reader.GetSpan(column).Length;
            }

            sum += Utf8Parser.TryParse(reader.GetSpan(SalePriceColumn), out decimal price, out _) ? price : throw new InvalidDataException("Bad price.");
            rows++;
        }

        return (rows, sum + (bytes * 0));
    }

    private static decimal Price(ReadOnlySpan<char> text) =>
        FieldParsers.TryParseSalePrice(text, out decimal price) ? price : throw new InvalidDataException($"Bad price '{text}'.");
}
