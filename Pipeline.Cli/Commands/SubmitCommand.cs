using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Pipeline.Contracts;
using Pipeline.Engine.Batches;
using Pipeline.Storage.Batches;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline submit &lt;batch-dir&gt; [--batch NAME]</c>: uploads a local batch folder (parts, then a fresh manifest)
/// and publishes <see cref="BatchSubmitted"/>, the same message an S3 event would start.
/// </summary>
internal sealed class SubmitCommand : AwsCommand
{
    private readonly Argument<DirectoryInfo> _folder = new("batch-dir")
    {
        Description = "Folder with products.csv and orders/ and order_items/ parts (or orders.csv and order_items.csv); " +
            "any file may be .csv.gz or .csv.zst instead.",
    };
    private readonly Option<string> _batch = new("--batch")
    {
        Description = "Batch name (letters, digits, '.', '_', '-'). " +
            "Default: the folder's name when that is a valid batch name, otherwise today's date (yyyyMMdd, UTC).",
    };

    public SubmitCommand()
        : base("submit", "Upload a batch folder to S3 and start the pipeline on it.")
    {
        Arguments.Add(_folder);
        Options.Add(_batch);
    }

    /// <summary>The folder's name when it is a valid batch name (a folder <c>20250409</c> is batch 20250409), else today's date.</summary>
    public static string DefaultBatchName(DirectoryInfo folder, DateTimeOffset today) =>
        BatchLayout.IsBatchName(folder.Name) ? folder.Name : today.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    protected override async Task<int> RunAsync(ParseResult result, AwsConnection aws, CancellationToken cancellationToken)
    {
        var folder = result.GetRequiredValue(_folder);
        if (!folder.Exists)
        {
            throw new DirectoryNotFoundException($"no batch folder {folder.FullName}");
        }
        var name = result.GetValue(_batch) ?? DefaultBatchName(folder, DateTimeOffset.UtcNow);
        if (!BatchLayout.IsBatchName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid batch name (letters, digits, '.', '_', '-'; at most 100; not 'shared')");
        }
        if (name == SmokeBatch.Name)
        {
            throw new ArgumentException($"'{name}' is the batch pipeline smoke sends and retracts; give your data another name (--batch)");
        }
        CliTelemetry.Name("submit", name);

        var stopwatch = Stopwatch.StartNew();
        UploadedBatch uploaded;
        using (var progress = UploadProgress.Show(TotalBytes(folder)))
        {
            uploaded = await new BatchUploader(aws.S3, new S3BatchStore(aws.S3))
                .UploadAsync(aws.Topology.Bucket.Name, folder.FullName, name, progress, cancellationToken);
        }

        await aws.Bus.PublishAsync(
            new BatchSubmitted(name, uploaded.Bucket, uploaded.ManifestKey, uploaded.ManifestETag, DateTimeOffset.UtcNow, "cli"), cancellationToken);

        Summary.Print(new
        {
            batch = uploaded.Name,
            bucket = uploaded.Bucket,
            manifest_key = uploaded.ManifestKey,
            etag = uploaded.ManifestETag,
            files = uploaded.Files,
            bytes = uploaded.Bytes,
            elapsed_ms = stopwatch.ElapsedMilliseconds,
        });
        return ExitCodes.Accepted;
    }

    private static long TotalBytes(DirectoryInfo folder) => LocalBatchFolder.Open(folder.FullName).TotalLength ?? 0;
}
