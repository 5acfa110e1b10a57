using Pipeline.Engine.Kpis;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Tests;

public sealed class EnrichedFileTests
{
    [Fact]
    public void Records_read_back_into_exactly_the_kpis_they_were_written_from()
    {
        var random = new Random(7);
        var writtenCategories = new CategoryIndex();
        var direct = new KpiAccumulator(writtenCategories);
        using var file = new MemoryStream();
        using (var writer = new EnrichedFile.Writer(file, leaveOpen: true))
        {
            for (int i = 1; i <= 2_000; i++)
            {
                var day = new DateOnly(2025, 3, 8).AddDays(random.Next(30));
                var order = new OrderFact(i, random.Next(1, 500), (OrderStatus)random.Next(4), day, random.Next(1, 4));
                direct.Add(order);
                writer.Write(order);
                var category = writtenCategories.GetOrAdd(new[] { "Jeans", "Outerwear & Coats", "Électronique", "Socks" }[random.Next(4)]);
                // Prices with 0 to 4 decimals, including some past what a long-free float would keep exactly.
                var price = Math.Round((decimal)random.NextDouble() * 1000, random.Next(5)) + 0.0001m * random.Next(2);
                var item = new EnrichedOrderItem(
                    i * 10, i, order.UserId, random.Next(1, 100), category, (OrderStatus)random.Next(4), day.AddDays(random.Next(2)), price);
                direct.Add(item);
                writer.Write(item);
            }
        }

        file.Position = 0;
        var readCategories = new CategoryIndex();
        var read = new KpiAccumulator(readCategories);
        var counts = EnrichedFile.ReadInto(file, read, readCategories);

        Assert.Equal(new EnrichedFile.Counts(2_000, 2_000), counts);
        Assert.Equal(KpiPartialJson.Serialize(direct.ToPartial()), KpiPartialJson.Serialize(read.ToPartial()));
        Assert.True(file.Length < 2_000 * 40, $"{file.Length} bytes for 4,000 records is not compact");
    }

    [Fact]
    public void A_truncated_file_is_an_error_not_a_shortfall()
    {
        var categories = new CategoryIndex();
        using var file = new MemoryStream();
        using (var writer = new EnrichedFile.Writer(file, leaveOpen: true))
        {
            for (int i = 1; i <= 500; i++)
            {
                writer.Write(new OrderFact(i, i, OrderStatus.Delivered, new DateOnly(2025, 3, 8), 1));
            }
        }
        var cut = new MemoryStream(file.ToArray()[..(int)(file.Length / 2)]);

        var error = Assert.ThrowsAny<InvalidDataException>(() => EnrichedFile.ReadInto(cut, new KpiAccumulator(categories), categories));

        Assert.Contains("truncated", error.Message + error.InnerException?.Message, StringComparison.OrdinalIgnoreCase);
    }
}
