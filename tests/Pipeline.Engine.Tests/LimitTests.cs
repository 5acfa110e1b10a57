using System.Text;
using Pipeline.Engine.Batches;
using Pipeline.Engine.Csv;
using Pipeline.Engine.Validation;
using static Pipeline.Engine.Tests.TestBatches;

namespace Pipeline.Engine.Tests;

/// <summary>
/// Batches far beyond the default limits: each is rejected with the limit's rule, the message names the limit, and
/// what lies beyond the limit is never read (the streams here would take gigabytes, or throw, if it were).
/// </summary>
public sealed class LimitTests
{
    [Fact]
    public void A_part_with_one_2_GB_line_is_stopped_at_the_line_limit_having_read_little_of_it()
    {
        var line = new GeneratedStream(Encoding.UTF8.GetBytes(OrdersHeader + "1,10,delivered,\""), "x"u8.ToArray(), 2L << 30);

        BatchResult result = Process(InMemory([Part("products.csv", TableKind.Products, Products)], [new BatchPart("orders.csv", TableKind.Orders, () => line)],
            [Part("order_items.csv", TableKind.OrderItems, ItemsHeader)]));

        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal((ValidationRule.LineTooLong, "orders.csv", 2L), (error.Rule, error.File, error.Line));
        Assert.Contains("65,536 bytes (Pipeline:Limits:MaxLineBytes)", error.Message, StringComparison.Ordinal);
        Assert.InRange(line.Position, 64 * 1024, 1 << 20);
    }

    [Fact]
    public void A_products_file_of_5_GB_is_refused_by_its_size_without_being_opened()
    {
        var products = new BatchPart("products.csv", TableKind.Products, () => throw new InvalidOperationException("opened"), 5L << 30);

        BatchResult result = Process(InMemory(
            [products], [Part("orders.csv", TableKind.Orders, Orders)], [Part("order_items.csv", TableKind.OrderItems, Items)]));

        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal((ValidationRule.FileTooLarge, "products.csv", 0L), (error.Rule, error.File, error.Line));
        Assert.Equal("The file is 5,368,709,120 bytes; at most 1,073,741,824 are allowed (Pipeline:Limits:MaxFileBytes).", error.Message);
    }

    [Fact]
    public void A_part_longer_than_its_announced_size_is_stopped_at_the_file_limit()
    {
        // An order, then blank lines without end, from a stream that does not say how long it is.
        var orders = new GeneratedStream(Encoding.UTF8.GetBytes(OrdersHeader + "1,10,pending,2025-03-08T10:00:00,,,,1\n"), "\n"u8.ToArray(), 1L << 40);
        var limits = new BatchLimits { MaxFileBytes = 1 << 20 };

        BatchResult result = Process(
            InMemory(
                [Part("products.csv", TableKind.Products, Products)],
                [new BatchPart("orders.csv", TableKind.Orders, () => orders)],
                [Part("order_items.csv", TableKind.OrderItems, ItemsHeader)]),
            new EngineOptions { Limits = limits });

        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal((ValidationRule.FileTooLarge, "orders.csv"), (error.Rule, error.File));
        Assert.Contains("longer than 1,048,576 bytes (Pipeline:Limits:MaxFileBytes); the rest of it was not read", error.Message, StringComparison.Ordinal);
        Assert.InRange(orders.Position, 1 << 20, (1 << 20) + (64 * 1024));
    }

    [Fact]
    public void A_batch_of_100_000_parts_is_refused_before_any_part_is_opened()
    {
        var parts = Enumerable.Range(1, 100_000)
            .Select(i => new BatchPart($"order_items/part{i}.csv", TableKind.OrderItems, () => throw new InvalidOperationException("opened"), 100))
            .Prepend(Part("orders.csv", TableKind.Orders, Orders))
            .Prepend(Part("products.csv", TableKind.Products, Products));

        BatchResult result = Process(new BatchInput([.. parts]));

        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal((ValidationRule.TooManyFiles, "order_items/part499.csv"), (error.Rule, error.File));
        Assert.Equal("The batch lists 100,002 files; at most 500 are allowed (Pipeline:Limits:MaxFiles).", error.Message);
    }

    [Fact]
    public void A_batch_larger_than_the_batch_limit_is_refused_by_its_sizes()
    {
        var parts = Enumerable.Range(1, 5)
            .Select(i => new BatchPart($"orders/part{i}.csv", TableKind.Orders, () => throw new InvalidOperationException("opened"), 1L << 30))
            .Prepend(Part("products.csv", TableKind.Products, Products));

        ValidationError error = Assert.Single(Process(new BatchInput([.. parts])).Report.Errors);

        Assert.Equal((ValidationRule.BatchTooLarge, "orders/part4.csv"), (error.Rule, error.File));
        Assert.Contains("at most 4,294,967,296 are allowed (Pipeline:Limits:MaxBatchBytes)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_with_more_fields_than_the_limit_stops_the_file()
    {
        string header = string.Join(',', Enumerable.Range(1, 100).Select(i => $"c{i}")) + "\n";

        BatchResult result = Process(InMemory(orders: header + new string('1', 10) + "\n", items: ItemsHeader));

        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal((ValidationRule.TooManyFields, "orders.csv", 1L), (error.Rule, error.File, error.Line));
        Assert.Equal("The row has 100 fields; at most 64 are allowed (Pipeline:Limits:MaxFields).", error.Message);
    }

    [Fact]
    public void Orders_on_more_days_than_the_limit_are_refused_from_the_first_day_too_many()
    {
        var orders = new StringBuilder(OrdersHeader);
        var first = new DateOnly(2000, 1, 1);
        for (int day = 0; day < 3_662; day++)
        {
            orders.Append(day + 1).Append(",10,pending,")
                .Append(first.AddDays(day).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)).Append("T10:00:00,,,,1\n");
        }

        BatchResult result = Process(InMemory(orders: orders.ToString(), items: ItemsHeader));

        Assert.Equal(2, result.Report.ErrorCount);
        ValidationError error = result.Report.Errors[0];
        Assert.Equal((ValidationRule.TooManyDays, 3_662L, "created_at"), (error.Rule, error.Line, error.Column));
        Assert.Contains("at most 3,660 are allowed (Pipeline:Limits:MaxDays)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_products_file_naming_more_categories_than_the_limit_is_refused_from_the_first_one_too_many()
    {
        var products = new StringBuilder("id,sku,cost,category,name,brand,retail_price,department\n");
        for (int product = 1; product <= 201; product++)
        {
            products.Append(product).Append(",S,1,Category ").Append(product).Append(",N,B,2,D\n");
        }

        BatchResult result = Process(InMemory(products: products.ToString(), items: ItemsHeader));

        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal((ValidationRule.TooManyCategories, "products.csv", 202L, "Category 201"), (error.Rule, error.File, error.Line, error.Value));
        Assert.Contains("at most 200 are allowed (Pipeline:Limits:MaxCategories)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scattered_ids_are_refused_once_they_take_more_ranges_than_the_limit_and_the_file_is_read_no_further()
    {
        var orders = new StringBuilder(OrdersHeader);
        for (int order = 1; order <= 1_000; order++)
        {
            orders.Append(order * 4_096L).Append(",10,pending,2025-03-08T10:00:00,,,,1\n"); // each order id in a range of its own
        }

        BatchResult result = Process(
            InMemory(orders: orders.ToString(), items: ItemsHeader), new EngineOptions { Limits = new BatchLimits { MaxIdRanges = 100 } });

        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal((ValidationRule.IdsTooScattered, "orders.csv", 102L), (error.Rule, error.File, error.Line));
        Assert.Contains("more than 100 ranges of 4,096 ids; at most 100 are allowed (Pipeline:Limits:MaxIdRanges)", error.Message, StringComparison.Ordinal);
        Assert.Equal(101, result.Report.RowsOf(TableKind.Orders));
    }

    [Fact]
    public void Customers_on_more_pages_than_the_limit_are_refused()
    {
        var items = new StringBuilder(ItemsHeader);
        for (int item = 1; item <= 20; item++)
        {
            items.Append(item).Append(",1,").Append(item * 65_536L).Append(",1,delivered,2025-03-08T10:05:00,,,,1\n"); // each customer on a page of its own
        }

        BatchResult result = Process(InMemory(items: items.ToString()), new EngineOptions { Limits = new BatchLimits { MaxCustomerPages = 10 } });

        ValidationError error = Assert.Single(result.Report.Errors);
        Assert.Equal((ValidationRule.IdsTooScattered, "order_items.csv", 12L), (error.Rule, error.File, error.Line));
        Assert.Contains(
            "more than 10 pages of 65,536 ids over its days; at most 10 are allowed (Pipeline:Limits:MaxCustomerPages)",
            error.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_limit_that_is_not_a_positive_number_is_a_configuration_error() =>
        Assert.Contains("Pipeline:Limits:MaxFiles must be at least 1",
            Assert.Throws<ArgumentOutOfRangeException>(() => new BatchLimits { MaxFiles = 0 }.Validated()).Message, StringComparison.Ordinal);

    /// <summary>A head, then a unit repeated up to a total length, made as it is read; <see cref="Position"/> says how much was.</summary>
    private sealed class GeneratedStream(byte[] head, byte[] unit, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int written = 0;
            while (written < count && _position < length)
            {
                buffer[offset + written++] = _position < head.Length ? head[_position] : unit[(_position - head.Length) % unit.Length];
                _position++;
            }
            return written;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
