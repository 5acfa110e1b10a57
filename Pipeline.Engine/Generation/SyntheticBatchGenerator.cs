using Pipeline.Engine.Csv;
using Pipeline.Engine.Transform;

namespace Pipeline.Engine.Generation;

/// <summary>
/// Writes a batch shaped like the seed data (same columns, statuses and value ranges, about a fifth
/// of orders returned, about two items an order) in the folder layout the engine reads. Every order
/// draws from its own seeded generator, so the output depends only on the options, parts can be
/// written in parallel, and memory does not depend on the number of orders.
/// </summary>
public static class SyntheticBatchGenerator
{
    private static readonly string[] Categories = ["Beauty", "Books", "Clothing", "Electronics", "Home & Kitchen", "Sports", "Toys"];
    private static readonly string[] Departments = ["Personal Care", "Media", "Apparel", "Technology", "Home", "Outdoors", "Kids"];
    private static readonly string[] Brands = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell"];

    /// <summary>Cumulative shares (in %) of orders with 1..5 items: 45, 25, 15, 10, 5.</summary>
    private static readonly int[] ItemCountThresholds = [45, 70, 85, 95, 100];

    public static GenerationSummary Generate(
        string directory,
        GeneratorOptions options,
        ProgressCounter? ordersWritten = null,
        CancellationToken cancellationToken = default)
    {
        options.Validate();
        Directory.CreateDirectory(Path.Combine(directory, TableNames.Orders));
        Directory.CreateDirectory(Path.Combine(directory, TableNames.OrderItems));

        long[] retailCents = WriteProducts(Path.Combine(directory, TableNames.Products + PartFormat.ExtensionOf(options.Compression)), options);

        // Item ids run on across parts, so each part first learns how many items come before it.
        var firstItemId = new long[options.Parts + 1];
        firstItemId[0] = 1;
        for (int part = 0; part < options.Parts; part++)
        {
            (long first, long last) = OrderRange(options, part);
            long items = 0;
            for (long orderId = first; orderId <= last; orderId++)
            {
                SplitMix64 random = SplitMix64.For(options.Seed, orderId);
                items += ItemCount(ref random);
            }

            firstItemId[part + 1] = firstItemId[part] + items;
        }

        Parallel.For(
            0,
            options.Parts,
            new ParallelOptions { CancellationToken = cancellationToken },
            part => WritePart(directory, options, part, firstItemId[part], retailCents, ordersWritten));

        long bytes = new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories)
            .Where(file => PartFormat.IsPartName(file.Name)).Sum(file => file.Length);
        return new GenerationSummary(options.Products, options.Orders, firstItemId[^1] - 1, bytes);
    }

    private static (long First, long Last) OrderRange(GeneratorOptions options, int part) =>
        ((options.Orders * part / options.Parts) + 1, options.Orders * (part + 1) / options.Parts);

    private static long[] WriteProducts(string path, GeneratorOptions options)
    {
        var retailCents = new long[options.Products + 1];
        var categories = options.Categories ?? Categories;
        var departments = options.Categories ?? Departments;
        using var writer = new CsvLineWriter(Create(path, options));
        writer.Text("id").Text("sku").Text("cost").Text("category").Text("name").Text("brand").Text("retail_price").Text("department").EndLine();
        Span<char> sku = stackalloc char[12];
        for (int productId = 1; productId <= options.Products; productId++)
        {
            SplitMix64 random = SplitMix64.For(options.Seed ^ 0x5EED, productId);
            int category = (int)random.Below(categories.Count);
            long retail = random.Between(945, 16_984);
            retailCents[productId] = retail;
            for (int letter = 0; letter < 3; letter++)
            {
                sku[letter] = (char)((random.Below(2) == 0 ? 'a' : 'A') + random.Below(26));
            }

            sku[3] = '-';
            random.Between(10_000_000, 99_999_999).TryFormat(sku[4..], out _);
            writer.Number(productId).Text(sku).Money(retail * random.Between(30, 60) / 100).Text(categories[category])
                .Text($"{categories[category]} product {productId}").Text(Brands[random.Below(Brands.Length)])
                .Money(retail).Text(departments[category]).EndLine();
        }

        return retailCents;
    }

    private static void WritePart(string directory, GeneratorOptions options, int part, long firstItemId, long[] retailCents, ProgressCounter? ordersWritten)
    {
        string name = $"part{part + 1}{PartFormat.ExtensionOf(options.Compression)}";
        using var orders = new CsvLineWriter(Create(Path.Combine(directory, TableNames.Orders, $"{TableNames.Orders}_{name}"), options));
        using var items = new CsvLineWriter(Create(Path.Combine(directory, TableNames.OrderItems, $"{TableNames.OrderItems}_{name}"), options));
        orders.Text("order_id").Text("user_id").Text("status").Text("created_at").Text("returned_at").Text("shipped_at")
            .Text("delivered_at").Text("num_of_item").EndLine();
        items.Text("id").Text("order_id").Text("user_id").Text("product_id").Text("status").Text("created_at")
            .Text("shipped_at").Text("delivered_at").Text("returned_at").Text("sale_price").EndLine();

        long users = Math.Max(100, options.Orders * 10 / 9);
        DateTime firstDay = options.FirstDay.ToDateTime(TimeOnly.MinValue);
        long itemId = firstItemId;
        (long first, long last) = OrderRange(options, part);
        for (long orderId = first; orderId <= last; orderId++)
        {
            if (orderId % 4096 == 0)
            {
                ordersWritten?.Add(4096);
            }

            SplitMix64 random = SplitMix64.For(options.Seed, orderId);
            int itemCount = ItemCount(ref random);
            long userId = random.Between(1, users);
            OrderStatus status = OrderStatusOf(random.Below(100));
            DateTime created = firstDay.AddDays(random.Below(options.Days)).AddSeconds(random.Below(86_400));
            Journey journey = Journey.Of(status, created, ref random);
            orders.Number(options.IdOffset + orderId).Number(userId).Text(OrderStatusText.Of(status)).Timestamp(created).Timestamp(journey.Returned)
                .Timestamp(journey.Shipped).Timestamp(journey.Delivered).Number(itemCount).EndLine();

            for (int item = 0; item < itemCount; item++)
            {
                long productId = random.Between(1, options.Products);
                OrderStatus itemStatus = status == OrderStatus.Returned && random.Below(5) == 0 ? OrderStatus.Delivered : status;
                // Items are created within the hour after their order, so some fall on the next day.
                DateTime itemCreated = created.AddSeconds(random.Below(3_600));
                Journey itemJourney = Journey.Of(itemStatus, itemCreated, ref random);
                items.Number(options.IdOffset + itemId++).Number(options.IdOffset + orderId).Number(userId).Number(productId)
                    .Text(OrderStatusText.Of(itemStatus)).Timestamp(itemCreated).Timestamp(itemJourney.Shipped).Timestamp(itemJourney.Delivered)
                    .Timestamp(itemJourney.Returned).Money(retailCents[productId]).EndLine();
            }
        }
    }

    private static Stream Create(string path, GeneratorOptions options) => PartFormat.Compress(File.Create(path), options.Compression);

    private static int ItemCount(ref SplitMix64 random)
    {
        long draw = random.Below(100);
        return Array.FindIndex(ItemCountThresholds, threshold => draw < threshold) + 1;
    }

    private static OrderStatus OrderStatusOf(long percent) => percent switch
    {
        < 70 => OrderStatus.Delivered,
        < 90 => OrderStatus.Returned,
        < 96 => OrderStatus.Shipped,
        _ => OrderStatus.Pending,
    };

    /// <summary>The shipping timestamps a status implies (pending: none; shipped: shipped only; ...).</summary>
    private readonly record struct Journey(DateTime? Shipped, DateTime? Delivered, DateTime? Returned)
    {
        public static Journey Of(OrderStatus status, DateTime created, ref SplitMix64 random)
        {
            DateTime shipped = created.AddMinutes(random.Between(60, 48 * 60));
            DateTime delivered = shipped.AddMinutes(random.Between(12 * 60, 96 * 60));
            DateTime returned = delivered.AddHours(random.Between(24, 7 * 24));
            return status switch
            {
                OrderStatus.Pending => default,
                OrderStatus.Shipped => new Journey(shipped, null, null),
                OrderStatus.Delivered => new Journey(shipped, delivered, null),
                _ => new Journey(shipped, delivered, returned),
            };
        }
    }
}
