using System.Net;
using System.Xml.Linq;
using Amazon.Runtime;

namespace Aws.Query;

/// <summary>An error answer of a Query API (or an answer that could not be read, <c>MalformedResponse</c>).</summary>
public sealed record QueryError(string Code, string Message, ErrorType Type, string? RequestId, HttpStatusCode Status);

/// <summary>
/// How Query APIs answer: <c>&lt;{Action}Response&gt;&lt;{Action}Result&gt;...</c> in the API's namespace, or
/// <c>&lt;ErrorResponse&gt;&lt;Error&gt;&lt;Type/&gt;&lt;Code/&gt;&lt;Message/&gt;&lt;/Error&gt;&lt;RequestId/&gt;</c>.
/// </summary>
public static class QueryProtocol
{
    /// <summary>
    /// Reads a success answer and returns its <c>{Action}Result</c> element; an error answer, or one that is not XML,
    /// throws what <paramref name="fail"/> makes of it (each client its own <see cref="AmazonServiceException"/>).
    /// </summary>
    public static XElement ReadResult(QueryApi api, string action, HttpStatusCode status, string body, Func<QueryError, Exception> fail)
    {
        XDocument document;
        try
        {
            document = XDocument.Parse(body);
        }
        catch (System.Xml.XmlException e)
        {
            throw fail(new("MalformedResponse", $"HTTP {(int)status} with a body that is not XML ({e.Message}): {Truncate(body)}",
                ErrorType.Unknown, null, status));
        }

        var root = document.Root!;
        if (root.Name.LocalName == "ErrorResponse" || (int)status >= 400)
        {
            throw fail(ReadError(status, root, body));
        }

        return root.Element(api.Xmlns + $"{action}Result")
            ?? throw fail(new("MalformedResponse", $"the answer has no {action}Result element: {Truncate(body)}", ErrorType.Unknown, null, status));
    }

    /// <summary>The request id of a success answer (<c>ResponseMetadata/RequestId</c>, beside the result), if any.</summary>
    public static string? RequestId(XElement result) =>
        result.Parent?.Descendants().FirstOrDefault(e => e.Name.LocalName == "RequestId")?.Value;

    public static string? Child(XElement? parent, string localName) =>
        parent?.Elements().FirstOrDefault(e => e.Name.LocalName == localName)?.Value;

    /// <summary>The <c>member</c> elements of the list <paramref name="listName"/> in <paramref name="parent"/>.</summary>
    public static IEnumerable<XElement> Members(XElement parent, string listName) =>
        parent.Elements().FirstOrDefault(e => e.Name.LocalName == listName)?.Elements().Where(e => e.Name.LocalName == "member") ?? [];

    private static QueryError ReadError(HttpStatusCode status, XElement root, string body)
    {
        var error = root.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
        var type = Child(error, "Type") switch
        {
            "Sender" => ErrorType.Sender,
            "Receiver" => ErrorType.Receiver,
            _ => ErrorType.Unknown,
        };
        var requestId = root.Descendants().FirstOrDefault(e => e.Name.LocalName == "RequestId")?.Value;
        return new(Child(error, "Code") ?? $"Http{(int)status}", Child(error, "Message") ?? Truncate(body), type, requestId, status);
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
