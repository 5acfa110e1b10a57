using System.Diagnostics;
using System.Text.Json;
using DuckDB.NET.Data;

namespace Pipeline.Benchmarks;

/// <summary>
/// DuckDB doing the same job on the same files with two threads: the engine's validation rules as
/// SQL (an error count rather than a report) and both KPI tables written as CSV.
/// </summary>
internal static class DuckDbContender
{
    public static void Run(string batch, string output)
    {
        var stopwatch = Stopwatch.StartNew();
        Directory.CreateDirectory(output);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        foreach (string statement in Script(batch, output))
        {
            using DuckDBCommand command = connection.CreateCommand();
            command.CommandText = statement;
            command.ExecuteNonQuery();
        }

        using DuckDBCommand count = connection.CreateCommand();
        count.CommandText = ErrorCountQuery;
        long errors = Convert.ToInt64(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        WriteKpis(connection, output);

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            error_count = errors,
            elapsed_ms = stopwatch.ElapsedMilliseconds,
            peak_rss_bytes = Process.GetCurrentProcess().PeakWorkingSet64,
        }));
    }

    private static string[] Script(string batch, string output) =>
    [
        "SET threads = 2",
        $"CREATE TABLE products AS SELECT * FROM read_csv('{batch}/products.csv', header = true, all_varchar = true)",
        $"CREATE TABLE orders AS SELECT * FROM read_csv('{batch}/orders/*.csv', header = true, all_varchar = true)",
        $"CREATE TABLE items AS SELECT * FROM read_csv('{batch}/order_items/*.csv', header = true, all_varchar = true)",
        // Casts rather than regular expressions: what a DuckDB user would write, and DuckDB's fast path.
        // Slightly looser than the engine (a cast accepts "+5" or " 5"), never stricter.
        "CREATE MACRO is_id(v) AS coalesce(TRY_CAST(v AS BIGINT) > 0, false)",
        "CREATE MACRO is_ts(v) AS try_strptime(v, '%Y-%m-%dT%H:%M:%S') IS NOT NULL",
        "CREATE MACRO is_optional_ts(v) AS v IS NULL OR is_ts(v)",
        "CREATE MACRO is_status(v) AS coalesce(v IN ('delivered', 'returned', 'shipped', 'pending'), false)",
        "CREATE MACRO is_price(v) AS coalesce(TRY_CAST(v AS DECIMAL(18, 2)) >= 0, false)",
        "CREATE MACRO is_count(v) AS coalesce(TRY_CAST(v AS INTEGER) > 0, false)",
    ];

    private const string ErrorCountQuery = """
        SELECT
          (SELECT count(*) FILTER (WHERE NOT (is_id(id) AND category IS NOT NULL)) + count(*) - count(DISTINCT id) FROM products)
        + (SELECT count(*) FILTER (WHERE NOT (is_id(order_id) AND is_id(user_id) AND is_status(status) AND is_ts(created_at)
              AND is_optional_ts(returned_at) AND is_optional_ts(shipped_at) AND is_optional_ts(delivered_at) AND is_count(num_of_item)))
            + count(*) - count(DISTINCT order_id) FROM orders)
        + (SELECT count(*) FILTER (WHERE NOT (is_id(id) AND is_id(order_id) AND is_id(user_id) AND is_id(product_id) AND is_status(status)
              AND is_ts(created_at) AND is_optional_ts(shipped_at) AND is_optional_ts(delivered_at) AND is_optional_ts(returned_at)
              AND is_price(sale_price)))
            + count(*) - count(DISTINCT id) FROM items)
        + (SELECT count(*) FROM items i ANTI JOIN orders o ON o.order_id = i.order_id)
        + (SELECT count(*) FROM items i ANTI JOIN products p ON p.id = i.product_id)
        """;

    private static void WriteKpis(DuckDBConnection connection, string output)
    {
        string[] statements =
        [
            $"""
            COPY (
              SELECT p.category, CAST(left(i.created_at, 10) AS DATE) AS order_date,
                     sum(CAST(i.sale_price AS DECIMAL(18, 2))) AS daily_revenue,
                     sum(CAST(i.sale_price AS DOUBLE)) / count(*) AS avg_order_value,
                     count(*) FILTER (WHERE i.status = 'returned') / count(*) * 100 AS avg_return_rate
              FROM items i JOIN products p ON p.id = i.product_id
              GROUP BY ALL ORDER BY ALL
            ) TO '{output}/category_kpis.csv' (HEADER)
            """,
            $"""
            COPY (
              WITH o AS (SELECT CAST(left(created_at, 10) AS DATE) AS d, count(*) AS total_orders,
                                sum(CAST(num_of_item AS INTEGER)) AS items_sold, count(*) FILTER (WHERE status = 'returned') AS returned
                         FROM orders GROUP BY 1),
                   it AS (SELECT CAST(left(created_at, 10) AS DATE) AS d, sum(CAST(sale_price AS DECIMAL(18, 2))) AS revenue,
                                 count(DISTINCT user_id) AS customers
                          FROM items GROUP BY 1)
              SELECT coalesce(o.d, it.d) AS order_date, coalesce(total_orders, 0) AS total_orders, coalesce(revenue, 0) AS total_revenue,
                     coalesce(items_sold, 0) AS total_items_sold,
                     CASE WHEN total_orders > 0 THEN returned / total_orders * 100 ELSE 0 END AS return_rate,
                     coalesce(customers, 0) AS unique_customers
              FROM o FULL OUTER JOIN it ON o.d = it.d ORDER BY 1
            ) TO '{output}/order_kpis.csv' (HEADER)
            """,
        ];
        foreach (string statement in statements)
        {
            using DuckDBCommand command = connection.CreateCommand();
            command.CommandText = statement;
            command.ExecuteNonQuery();
        }
    }
}
