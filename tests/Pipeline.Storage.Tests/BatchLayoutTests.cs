using Pipeline.Storage.Batches;

namespace Pipeline.Storage.Tests;

public class BatchLayoutTests
{
    [Theory]
    [InlineData("data/20250409/manifest_20250409.json", "20250409")]
    [InlineData("data/spring-sale.2/manifest_spring-sale.2.json", "spring-sale.2")]
    public void A_manifest_key_names_its_batch(string key, string batch) => Assert.Equal(batch, BatchLayout.BatchNameOf(key));

    [Theory]
    [InlineData("data/a/manifest_b.json")]
    [InlineData("data/../manifest_...json")]
    [InlineData("processed/a/manifest_a.json")]
    [InlineData("data/a/b/manifest_a.json")]
    [InlineData("data/.hidden/manifest_.hidden.json")]
    [InlineData("data/shared/manifest_shared.json")]
    [InlineData("/data/a/manifest_a.json")]
    public void Anything_else_is_not_a_manifest_key(string key) =>
        Assert.Contains("expected data/<batch>/manifest_<batch>.json", Assert.Throws<BatchLayoutException>(() => BatchLayout.BatchNameOf(key)).Message);

    [Fact]
    public void The_folder_of_shared_product_files_is_no_batch_so_no_archive_can_move_them()
    {
        Assert.False(BatchLayout.IsBatchName("shared"));
        Assert.Throws<BatchLayoutException>(() => BatchLayout.BatchPrefix("shared"));
        Assert.Equal("data/shared/products.csv", BatchLayout.ProductsKey("b1", "data/shared/products.csv"));
        Assert.Equal("data/b1/products.csv", BatchLayout.ProductsKey("b1", "data/b1/products.csv"));
        Assert.Equal(BatchLayout.ProductMasterKey, BatchLayout.ProductsKey("b1", null));
    }

    [Theory]
    [InlineData("b1", "../b2/x.csv")]
    [InlineData("b1", "/etc/passwd.csv")]
    [InlineData("b1", "sub/x.csv")]
    [InlineData("b1", "x.json")]
    [InlineData("b1", "..csv")]
    [InlineData("b1", "a123456789b123456789c123456789d123456789e123456789f123456789g123456789h123456789i123456789j123456.csv")]
    [InlineData("b1", "x.gz")]
    [InlineData("b1", "x.csv.bz2")]
    public void A_part_name_that_is_not_a_csv_name_is_refused(string batch, string fileName) =>
        Assert.Contains(
            "expected a .csv, .csv.gz or .csv.zst file name",
            Assert.Throws<BatchLayoutException>(() => BatchLayout.PartKey(batch, "orders", fileName)).Message);

    [Theory]
    [InlineData(".csv")]
    [InlineData(".csv.gz")]
    [InlineData(".csv.zst")]
    public void A_part_name_of_100_characters_is_a_csv_name_plain_or_compressed(string extension)
    {
        var name = new string('p', 100 - extension.Length) + extension;
        Assert.EndsWith("/" + name, BatchLayout.PartKey("b1", "orders", name));
        Assert.Throws<BatchLayoutException>(() => BatchLayout.PartKey("b1", "orders", "p" + name));
    }

    [Fact]
    public void A_products_file_may_be_compressed() =>
        Assert.Equal("data/shared/products.csv.gz", BatchLayout.ProductsKey("b1", "data/shared/products.csv.gz"));

    [Theory]
    [InlineData("transformed/b1/v2/orders/p1.pen", true)]
    [InlineData("transformed/b1/v2/", false)]
    [InlineData("transformed/b1/v2/../../b2/v1/orders/p1.pen", false)]
    [InlineData("transformed/b1/v2//p1.pen", false)]
    [InlineData("transformed/b1/v20/orders/p1.pen", false)]
    [InlineData("transformed/b2/v1/orders/p1.pen", false)]
    public void A_key_is_in_a_version_folder_only_below_it_without_a_way_out(string key, bool inside) =>
        Assert.Equal(inside, BatchLayout.IsInFolder(BatchLayout.VersionFolder(BatchLayout.TransformedPrefix, "b1", 2), key));

    [Fact]
    public void Archived_keys_keep_their_place_inside_their_versions_folder() =>
        Assert.Equal("processed/b1/v3/order_items/p2.csv", BatchLayout.ArchiveKey("b1", 3, BatchLayout.ProcessedPrefix, "data/b1/order_items/p2.csv"));

    [Theory]
    [InlineData("data/products.csv")]
    [InlineData("data/shared/products.csv")]
    [InlineData("data/b10/orders/o.csv")]
    public void A_key_outside_the_batch_folder_is_never_archived_with_it(string key) =>
        Assert.Contains("never moved", Assert.Throws<BatchLayoutException>(() => BatchLayout.ArchiveKey("b1", 1, BatchLayout.ErrorsPrefix, key)).Message);
}
