using System.Diagnostics;
using System.Xml.Linq;
using Amazon;
using Amazon.Runtime.Signing;
using Aws.Query;

namespace Aws.Sns;

/// <summary>
/// Amazon SNS over the Query API. The same code talks to AWS, LocalStack and the local emulator:
/// only <see cref="SnsClientOptions.ServiceUrl"/> changes. Errors surface as <see cref="AmazonSnsException"/>.
/// </summary>
/// <param name="http">An HttpClient whose pipeline signs requests (see <see cref="CreateSigningHandler"/>).</param>
public sealed class SnsClient(HttpClient http, SnsClientOptions options)
{
    /// <summary>
    /// The activity source of this client's call spans (<c>SNS.Publish</c>, ... with the OpenTelemetry AWS SDK conventions'
    /// attributes), started only inside an operation: a call with no current activity starts no trace.
    /// </summary>
    public const string ActivitySourceName = "Aws.Sns";

    private static readonly ActivitySource Source = new(ActivitySourceName);

    /// <summary>The SigV4 signing handler for SNS in <paramref name="options"/>' region.</summary>
    public static SigV4SigningHandler CreateSigningHandler(SnsClientOptions options, HttpMessageHandler? inner = null) =>
        SnsQueryProtocol.Api.CreateSigningHandler(options.Credentials, options.Region, inner);

    /// <summary>A client with its own signed HttpClient, for tools and tests that do not use dependency injection.</summary>
    public static SnsClient Create(SnsClientOptions options) => new(new HttpClient(CreateSigningHandler(options)), options);

    public SnsClientOptions Options => options;

    /// <summary>Creates a topic, or returns the ARN of the existing one with the same name and attributes (idempotent).</summary>
    public async Task<CreateTopicResponse> CreateTopicAsync(CreateTopicRequest request, CancellationToken cancellationToken = default)
    {
        var form = SnsQueryProtocol.Form("CreateTopic").Add("Name", request.Name).AddMap("Attributes", request.Attributes);
        var result = await SendAsync(form, cancellationToken).ConfigureAwait(false);
        return new CreateTopicResponse(Required(result, "TopicArn", form.Action));
    }

    public async Task<SubscribeResponse> SubscribeAsync(SubscribeRequest request, CancellationToken cancellationToken = default)
    {
        var form = SnsQueryProtocol.Form("Subscribe")
            .Add("TopicArn", request.TopicArn)
            .Add("Protocol", request.Protocol)
            .Add("Endpoint", request.Endpoint)
            .Add("ReturnSubscriptionArn", "true")
            .AddMap("Attributes", request.Attributes);
        var result = await SendAsync(form, cancellationToken).ConfigureAwait(false);
        return new SubscribeResponse(Required(result, "SubscriptionArn", form.Action));
    }

    public async Task SetSubscriptionAttributesAsync(SetSubscriptionAttributesRequest request, CancellationToken cancellationToken = default)
    {
        var form = SnsQueryProtocol.Form("SetSubscriptionAttributes")
            .Add("SubscriptionArn", request.SubscriptionArn)
            .Add("AttributeName", request.AttributeName)
            .Add("AttributeValue", request.AttributeValue);
        await SendAsync(form, cancellationToken).ConfigureAwait(false);
    }

    public async Task<PublishResponse> PublishAsync(PublishRequest request, CancellationToken cancellationToken = default)
    {
        var form = SnsQueryProtocol.Form("Publish")
            .Add("TopicArn", request.TopicArn)
            .Add("Message", request.Message)
            .Add("Subject", request.Subject)
            .Add("MessageGroupId", request.MessageGroupId)
            .Add("MessageDeduplicationId", request.MessageDeduplicationId)
            .AddMessageAttributes(request.MessageAttributes);
        var result = await SendAsync(form, cancellationToken).ConfigureAwait(false);
        return new PublishResponse(Required(result, "MessageId", form.Action));
    }

    /// <summary>One page of a topic's subscriptions; pass <see cref="ListSubscriptionsByTopicResponse.NextToken"/> for the next.</summary>
    public async Task<ListSubscriptionsByTopicResponse> ListSubscriptionsByTopicAsync(
        string topicArn, string? nextToken = null, CancellationToken cancellationToken = default)
    {
        var form = SnsQueryProtocol.Form("ListSubscriptionsByTopic").Add("TopicArn", topicArn).Add("NextToken", nextToken);
        var result = await SendAsync(form, cancellationToken).ConfigureAwait(false);
        var subscriptions = QueryProtocol.Members(result, "Subscriptions")
            .Select(m => new SnsSubscription(
                Text(m, "SubscriptionArn"), Text(m, "Owner"), Text(m, "Protocol"), Text(m, "Endpoint"), Text(m, "TopicArn")))
            .ToList();
        return new ListSubscriptionsByTopicResponse(subscriptions, NextToken(result));
    }

    /// <summary>All subscriptions of a topic, every page.</summary>
    public async Task<IReadOnlyList<SnsSubscription>> ListAllSubscriptionsByTopicAsync(string topicArn, CancellationToken cancellationToken = default)
    {
        var all = new List<SnsSubscription>();
        string? token = null;
        do
        {
            var page = await ListSubscriptionsByTopicAsync(topicArn, token, cancellationToken).ConfigureAwait(false);
            all.AddRange(page.Subscriptions);
            token = page.NextToken;
        }
        while (token is not null);
        return all;
    }

    public async Task<ListTopicsResponse> ListTopicsAsync(string? nextToken = null, CancellationToken cancellationToken = default)
    {
        var form = SnsQueryProtocol.Form("ListTopics").Add("NextToken", nextToken);
        var result = await SendAsync(form, cancellationToken).ConfigureAwait(false);
        var arns = QueryProtocol.Members(result, "Topics").Select(m => Text(m, "TopicArn")).ToList();
        return new ListTopicsResponse(arns, NextToken(result));
    }

    /// <summary>The ARN of the topic with this name, or null; lets a service find a topic without the right to create one.</summary>
    public async Task<string?> FindTopicArnAsync(string topicName, CancellationToken cancellationToken = default)
    {
        if (options.AccountId is { Length: > 0 } account)
        {
            var arn = $"arn:{RegionEndpoint.GetBySystemName(options.Region).PartitionName}:sns:{options.Region}:{account}:{topicName}";
            return await TopicExistsAsync(arn, cancellationToken).ConfigureAwait(false) ? arn : null;
        }

        string? token = null;
        do
        {
            var page = await ListTopicsAsync(token, cancellationToken).ConfigureAwait(false);
            var match = page.TopicArns.FirstOrDefault(arn => arn.EndsWith(":" + topicName, StringComparison.Ordinal));
            if (match is not null)
            {
                return match;
            }
            token = page.NextToken;
        }
        while (token is not null);
        return null;
    }

    /// <summary>Whether the topic exists (GetTopicAttributes).</summary>
    public async Task<bool> TopicExistsAsync(string topicArn, CancellationToken cancellationToken = default)
    {
        try
        {
            await SendAsync(SnsQueryProtocol.Form("GetTopicAttributes").Add("TopicArn", topicArn), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonSnsException e) when (e.ErrorCode == "NotFound")
        {
            return false;
        }
    }

    /// <summary>
    /// Sends one call, and again after a throttling answer (SNS throttles with HTTP 400 <c>Throttling</c>, which HTTP
    /// retry policies take for a client error), backing off as the AWS SDKs' standard retry mode does: up to
    /// <see cref="MaxAttempts"/> attempts, each after a random wait of up to 0.1 s doubled per attempt. One span covers
    /// the call, its attempts included.
    /// </summary>
    private async Task<XElement> SendAsync(QueryForm form, CancellationToken cancellationToken)
    {
        using var activity = Activity.Current is null ? null : StartCall(form);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, options.Endpoint) { Content = form.ToContent() };
                using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                XElement result;
                try
                {
                    result = SnsQueryProtocol.ReadResult(form.Action, response.StatusCode, body);
                }
                catch (AmazonSnsException e) when (attempt < MaxAttempts && IsThrottling(e))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * 100 * (1 << attempt)), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                activity?.SetTag("aws.request_id", QueryProtocol.RequestId(result));
                if (form.Action == "Publish")
                {
                    activity?.SetTag("messaging.message.id", QueryProtocol.Child(result, "MessageId"));
                }
                return result;
            }
        }
        catch (Exception e) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, e.Message);
            activity.AddException(e);
            if (e is AmazonSnsException sns)
            {
                activity.SetTag("aws.error_code", sns.ErrorCode);
                activity.SetTag("aws.request_id", sns.RequestId);
            }
            throw;
        }
    }

    /// <summary>Attempts of one call that SNS throttles (the AWS SDKs' standard retry mode makes 3).</summary>
    public const int MaxAttempts = 3;

    private static bool IsThrottling(AmazonSnsException e) =>
        e.ErrorCode is "Throttling" or "ThrottlingException" or "ThrottledException" or "RequestThrottled" or "TooManyRequestsException";

    /// <summary>A span named and tagged as the OpenTelemetry AWS SDK conventions have it: <c>SNS.Publish</c>, <c>rpc.*</c>, the topic.</summary>
    private Activity? StartCall(QueryForm form)
    {
        var activity = Source.StartActivity($"SNS.{form.Action}", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("rpc.system", "aws-api")
                .SetTag("rpc.service", "SNS")
                .SetTag("rpc.method", form.Action)
                .SetTag("cloud.region", options.Region)
                .SetTag("messaging.system", "aws_sns");
            if (form.Get("TopicArn") is { } topicArn)
            {
                activity.SetTag("aws.sns.topic.arn", topicArn)
                    .SetTag("messaging.destination.name", topicArn[(topicArn.LastIndexOf(':') + 1)..]);
            }
            if (form.Action == "Publish")
            {
                activity.SetTag("messaging.operation.type", "send").SetTag("messaging.operation.name", "Publish");
            }
        }
        return activity;
    }

    private static string Text(XElement parent, string name) => QueryProtocol.Child(parent, name) ?? string.Empty;

    private static string? NextToken(XElement result) =>
        QueryProtocol.Child(result, "NextToken") is { Length: > 0 } token ? token : null;

    private static string Required(XElement result, string name, string action) =>
        QueryProtocol.Child(result, name)
        ?? throw new AmazonSnsException(action, "MalformedResponse", $"the answer has no {name}",
            Amazon.Runtime.ErrorType.Unknown, requestId: null, System.Net.HttpStatusCode.OK);
}
