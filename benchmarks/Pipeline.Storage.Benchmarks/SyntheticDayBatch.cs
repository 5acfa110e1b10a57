using Pipeline.Engine.Kpis;

namespace Pipeline.Storage.Benchmarks;

/// <summary>
/// The KPI partial of one batch of a day's orders, built directly (generating and parsing CSV files for a year of batches
/// would take hours): the seed data's seven categories, one to four items an order, a few returns, and customers drawn
/// from a dense id range shared by the whole year (a shop's customer base), so that each day's customers fill the same
/// customer pages as a real shop's do.
/// </summary>
internal static class SyntheticDayBatch
{
    private static readonly string[] Categories = ["Beauty", "Books", "Clothing", "Electronics", "Home & Kitchen", "Sports", "Toys"];

    public static KpiPartial Build(DateOnly day, int orders, int customerBase, int seed)
    {
        var random = new Random(seed);
        var revenue = new decimal[Categories.Length];
        var items = new long[Categories.Length];
        var returned = new long[Categories.Length];
        var customers = new HashSet<long>();
        long itemsSold = 0, returnedOrders = 0;
        for (var order = 0; order < orders; order++)
        {
            customers.Add(1 + random.NextInt64(customerBase));
            var returns = false;
            for (var item = random.Next(1, 5); item > 0; item--)
            {
                var category = random.Next(Categories.Length);
                var quantity = random.Next(1, 4);
                revenue[category] += quantity * random.Next(199, 25_000) / 100m;
                items[category] += quantity;
                itemsSold += quantity;
                if (random.Next(40) == 0)
                {
                    returned[category] += quantity;
                    returns = true;
                }
            }
            returnedOrders += returns ? 1 : 0;
        }
        var categoryDays = Enumerable.Range(0, Categories.Length).Where(c => items[c] > 0)
            .Select(c => new CategoryDayContribution(Categories[c], day, revenue[c], items[c], returned[c])).ToList();
        return new KpiPartial(categoryDays, [new DayContribution(day, orders, itemsSold, returnedOrders, customers.Order().ToList())]);
    }
}
