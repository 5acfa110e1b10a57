using System.Net;
using System.Xml.Linq;
using Aws.Query;

namespace Aws.Sns;

/// <summary>
/// SNS over the Query API (<see cref="QueryProtocol"/>): version <c>2010-03-31</c>, XML answers in the
/// <c>http://sns.amazonaws.com/doc/2010-03-31/</c> namespace, errors as <see cref="AmazonSnsException"/>.
/// </summary>
internal static class SnsQueryProtocol
{
    public static readonly QueryApi Api = new("SNS", "sns", "2010-03-31", "http://sns.amazonaws.com/doc/2010-03-31/");

    public static QueryForm Form(string action) => Api.Form(action);

    /// <summary>Reads a success answer and returns its <c>{Action}Result</c> element, or throws <see cref="AmazonSnsException"/>.</summary>
    public static XElement ReadResult(string action, HttpStatusCode status, string body) =>
        QueryProtocol.ReadResult(Api, action, status, body, e => new AmazonSnsException(action, e.Code, e.Message, e.Type, e.RequestId, e.Status));

    /// <summary>Message attributes as <c>MessageAttributes.entry.N.Name</c> / <c>.Value.DataType</c> / <c>.Value.StringValue</c>.</summary>
    public static QueryForm AddMessageAttributes(this QueryForm form, IReadOnlyDictionary<string, SnsMessageAttributeValue> attributes)
    {
        var n = 1;
        foreach (var (name, attribute) in attributes.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var prefix = $"MessageAttributes.entry.{n}";
            form.Add($"{prefix}.Name", name)
                .Add($"{prefix}.Value.DataType", attribute.DataType)
                .Add($"{prefix}.Value.StringValue", attribute.StringValue);
            n++;
        }
        return form;
    }
}
