namespace Pipeline.Contracts;

/// <summary>
/// How long the text fields of the messages other producers may send (<see cref="BatchSubmitted"/>,
/// <see cref="BatchRetractionRequested"/>) can be. A longer value is refused at once as poison, naming the field: these
/// values are kept in the run history and repeated in alerts, which have limits of their own (a DynamoDB item 400 KB,
/// an SNS message 256 KiB).
/// </summary>
public static class FieldLimits
{
    /// <summary>A batch name.</summary>
    public const int BatchId = 100;

    /// <summary>An S3 bucket name.</summary>
    public const int Bucket = 63;

    /// <summary>An S3 key.</summary>
    public const int Key = 1_024;

    /// <summary>An S3 ETag (32 hexadecimal digits, and a part count for a multipart upload).</summary>
    public const int ETag = 100;

    /// <summary>Who sent a message: a name, or the envelope's source address.</summary>
    public const int Source = 200;

    /// <summary>A reason in a person's words.</summary>
    public const int Reason = 1_000;

    /// <summary>Why the first of <paramref name="fields"/> that is too long is refused, or null when none is.</summary>
    /// <param name="fields">Each field's name as the message has it (such as <c>BatchSubmitted.source</c>), its value and its limit.</param>
    public static string? FirstTooLong(params ReadOnlySpan<(string Field, string? Value, int Max)> fields)
    {
        foreach (var (field, value, max) in fields)
        {
            if (value is not null && value.Length > max)
            {
                return $"{field} is {value.Length:N0} characters long; at most {max:N0} are allowed";
            }
        }
        return null;
    }
}
