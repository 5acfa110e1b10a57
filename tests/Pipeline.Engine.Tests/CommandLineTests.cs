using Pipeline.Cli;

namespace Pipeline.Engine.Tests;

/// <summary>The `pipeline` command's files and exit codes: 0 accepted, 2 rejected, 1 usage or I/O error.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pipeline-cli-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task Generate_then_process_is_accepted_and_writes_all_three_files()
    {
        string batch = Path.Combine(_root, "batch");
        string output = Path.Combine(_root, "out");

        Assert.Equal(0, await Run("generate", batch, "--orders", "2000", "--parts", "2", "--days", "5", "--products", "100"));
        Assert.Equal(0, await Run("process", batch, "--out", output));

        Assert.Contains("\"accepted\": true", File.ReadAllText(Path.Combine(output, "validation.json")), StringComparison.Ordinal);
        Assert.StartsWith(
            "category,order_date,daily_revenue,avg_order_value,avg_return_rate\n",
            File.ReadAllText(Path.Combine(output, "category_kpis.csv")),
            StringComparison.Ordinal);
        Assert.StartsWith(
            "order_date,total_orders,total_revenue,total_items_sold,return_rate,unique_customers\n",
            File.ReadAllText(Path.Combine(output, "order_kpis.csv")),
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--gzip", ".csv.gz")]
    [InlineData("--zstd", ".csv.zst")]
    public async Task Generate_compressed_then_process_gives_the_kpis_of_the_plain_batch(string option, string extension)
    {
        string[] shape = ["--orders", "2000", "--parts", "2", "--days", "5", "--products", "100"];
        Assert.Equal(0, await Run(["generate", Path.Combine(_root, "plain"), .. shape]));
        Assert.Equal(0, await Run(["generate", Path.Combine(_root, "compressed"), .. shape, option]));
        Assert.Equal(0, await Run("process", Path.Combine(_root, "plain"), "--out", Path.Combine(_root, "plain-out")));
        Assert.Equal(0, await Run("process", Path.Combine(_root, "compressed"), "--out", Path.Combine(_root, "compressed-out")));

        Assert.Equal(5, Directory.GetFiles(Path.Combine(_root, "compressed"), "*" + extension, SearchOption.AllDirectories).Length);
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "compressed"), "*.csv", SearchOption.AllDirectories));
        foreach (string kpis in new[] { "category_kpis.csv", "order_kpis.csv" })
        {
            Assert.Equal(File.ReadAllText(Path.Combine(_root, "plain-out", kpis)), File.ReadAllText(Path.Combine(_root, "compressed-out", kpis)));
        }
    }

    [Fact]
    public async Task Generate_refuses_gzip_and_zstd_together() =>
        Assert.Equal(1, await Run("generate", _root, "--orders", "10", "--gzip", "--zstd"));

    [Fact]
    public async Task A_rejected_batch_exits_2_with_the_report_and_no_kpis()
    {
        string batch = Path.Combine(_root, "bad");
        Directory.CreateDirectory(batch);
        File.WriteAllText(Path.Combine(batch, "products.csv"), TestBatches.Products);
        File.WriteAllText(Path.Combine(batch, "orders.csv"), TestBatches.Orders.Replace("10,delivered", "10,lost", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(batch, "order_items.csv"), TestBatches.Items);
        string output = Path.Combine(_root, "out");

        Assert.Equal(2, await Run("process", batch, "--out", output));

        Assert.Contains("field.invalid_status", File.ReadAllText(Path.Combine(output, "validation.json")), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(output, "category_kpis.csv")));
        Assert.False(File.Exists(Path.Combine(output, "order_kpis.csv")));
    }

    [Fact]
    public async Task A_missing_batch_folder_exits_1()
    {
        Assert.Equal(1, await Run("process", Path.Combine(_root, "nowhere"), "--out", Path.Combine(_root, "out")));
    }

    [Fact]
    public async Task Usage_errors_exit_1()
    {
        Assert.Equal(1, await Run("process", _root));
        Assert.Equal(1, await Run("generate", _root));
        Assert.Equal(1, await Run("no-such-command"));
    }

    [Fact]
    public async Task Generate_is_deterministic_for_a_seed()
    {
        string first = Path.Combine(_root, "first");
        string second = Path.Combine(_root, "second");

        Assert.Equal(0, await Run("generate", first, "--orders", "500", "--parts", "3", "--seed", "9"));
        Assert.Equal(0, await Run("generate", second, "--orders", "500", "--parts", "3", "--seed", "9"));

        string[] files = [.. Directory.GetFiles(first, "*.csv", SearchOption.AllDirectories).Select(file => Path.GetRelativePath(first, file)).Order()];
        Assert.Equal(7, files.Length);
        Assert.All(files, file => Assert.Equal(File.ReadAllBytes(Path.Combine(first, file)), File.ReadAllBytes(Path.Combine(second, file))));
    }

    private static Task<int> Run(params string[] arguments) => PipelineCommandLine.InvokeAsync(arguments);
}
