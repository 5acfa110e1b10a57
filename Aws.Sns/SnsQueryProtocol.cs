using System.Net;
using System.Xml.Linq;
using Amazon.Runtime;

namespace Aws.Sns;

/// <summary>
/// The SNS Query API wire format: a form-encoded POST with <c>Action</c> and <c>Version</c>, and an XML answer
/// in the <c>http://sns.amazonaws.com/doc/2010-03-31/</c> namespace.
/// </summary>
internal static class SnsQueryProtocol
{
    public const string ApiVersion = "2010-03-31";
    public static readonly XNamespace Xmlns = "http://sns.amazonaws.com/doc/2010-03-31/";

    /// <summary>The form of one call: its action and parameters, flattened as the Query API names them.</summary>
    public sealed class Form(string action)
    {
        private readonly List<KeyValuePair<string, string>> _fields =
        [
            new("Action", action),
            new("Version", ApiVersion),
        ];

        public string Action { get; } = action;

        public Form Add(string name, string? value)
        {
            if (value is not null)
            {
                _fields.Add(new(name, value));
            }
            return this;
        }

        /// <summary>Maps as <c>Attributes.entry.N.key</c> / <c>Attributes.entry.N.value</c>, N from 1.</summary>
        public Form AddMap(string name, IReadOnlyDictionary<string, string> map)
        {
            var n = 1;
            foreach (var (key, value) in map.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                Add($"{name}.entry.{n}.key", key).Add($"{name}.entry.{n}.value", value);
                n++;
            }
            return this;
        }

        /// <summary>Message attributes as <c>MessageAttributes.entry.N.Name</c> / <c>.Value.DataType</c> / <c>.Value.StringValue</c>.</summary>
        public Form AddMessageAttributes(IReadOnlyDictionary<string, SnsMessageAttributeValue> attributes)
        {
            var n = 1;
            foreach (var (name, attribute) in attributes.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                var prefix = $"MessageAttributes.entry.{n}";
                Add($"{prefix}.Name", name)
                    .Add($"{prefix}.Value.DataType", attribute.DataType)
                    .Add($"{prefix}.Value.StringValue", attribute.StringValue);
                n++;
            }
            return this;
        }

        public FormUrlEncodedContent ToContent() => new(_fields);

        /// <summary>The first value of the field <paramref name="name"/>, or null.</summary>
        public string? Get(string name) => _fields.FirstOrDefault(f => f.Key == name).Value;

        public IReadOnlyList<KeyValuePair<string, string>> Fields => _fields;
    }

    /// <summary>Reads a success answer and returns its <c>{Action}Result</c> element, or throws <see cref="AmazonSnsException"/>.</summary>
    public static XElement ReadResult(string action, HttpStatusCode status, string body)
    {
        XDocument document;
        try
        {
            document = XDocument.Parse(body);
        }
        catch (System.Xml.XmlException e)
        {
            throw new AmazonSnsException(action, "MalformedResponse",
                $"HTTP {(int)status} with a body that is not XML ({e.Message}): {Truncate(body)}",
                ErrorType.Unknown, requestId: null, status);
        }

        var root = document.Root!;
        if (root.Name.LocalName == "ErrorResponse" || (int)status >= 400)
        {
            throw ReadError(action, status, root, body);
        }

        return root.Element(Xmlns + $"{action}Result")
            ?? throw new AmazonSnsException(action, "MalformedResponse",
                $"the answer has no {action}Result element: {Truncate(body)}", ErrorType.Unknown, requestId: null, status);
    }

    private static AmazonSnsException ReadError(string action, HttpStatusCode status, XElement root, string body)
    {
        // AWS answers <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
        var error = root.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
        var code = Child(error, "Code") ?? $"Http{(int)status}";
        var message = Child(error, "Message") ?? Truncate(body);
        var type = Child(error, "Type") switch
        {
            "Sender" => ErrorType.Sender,
            "Receiver" => ErrorType.Receiver,
            _ => ErrorType.Unknown,
        };
        var requestId = root.Descendants().FirstOrDefault(e => e.Name.LocalName == "RequestId")?.Value;
        return new AmazonSnsException(action, code, message, type, requestId, status);
    }

    /// <summary>The request id of a success answer (<c>ResponseMetadata/RequestId</c>, beside the result), if any.</summary>
    public static string? RequestId(XElement result) =>
        result.Parent?.Descendants().FirstOrDefault(e => e.Name.LocalName == "RequestId")?.Value;

    public static string? Child(XElement? parent, string localName) =>
        parent?.Elements().FirstOrDefault(e => e.Name.LocalName == localName)?.Value;

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
