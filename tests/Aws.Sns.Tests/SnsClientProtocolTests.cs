using System.Net;
using Amazon.Runtime;

namespace Aws.Sns.Tests;

/// <summary>What the client puts on the wire (a signed Query API form) and how it reads SNS's XML answers.</summary>
public class SnsClientProtocolTests
{
    private const string AccessKey = "AKIDEXAMPLE";
    private const string SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string TopicArn = "arn:aws:sns:eu-west-1:123456789012:orders";

    private static (SnsClient Client, RecordingHandler Wire) ClientAnswering(string answer, HttpStatusCode status = HttpStatusCode.OK,
        AWSCredentials? credentials = null)
    {
        var options = new SnsClientOptions
        {
            Region = "eu-west-1",
            Credentials = credentials ?? new BasicAWSCredentials(AccessKey, SecretKey),
        };
        var wire = new RecordingHandler(status, answer);
        return (new SnsClient(new HttpClient(SnsClient.CreateSigningHandler(options, wire)), options), wire);
    }

    private static string Success(string action, string result) =>
        $"""
        <{action}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
          <{action}Result>{result}</{action}Result>
          <ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata>
        </{action}Response>
        """;

    [Fact]
    public async Task Publish_sends_a_form_post_signed_for_sns_in_the_configured_region()
    {
        var (client, wire) = ClientAnswering(Success("Publish", "<MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId>"));

        var response = await client.PublishAsync(new PublishRequest(TopicArn, "Hello & welcome = café")
        {
            Subject = "greeting",
            MessageAttributes = new Dictionary<string, SnsMessageAttributeValue>
            {
                ["Content-Type"] = SnsMessageAttributeValue.FromString("application/json"),
                ["attempt"] = new("Number", "3"),
            },
        });

        Assert.Equal("94f20ce6-13c5-43a0-9a9e-ca52d816e90b", response.MessageId);
        var request = Assert.Single(wire.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal(new Uri("https://sns.eu-west-1.amazonaws.com/"), request.Uri);
        Assert.StartsWith("application/x-www-form-urlencoded", request.Header("Content-Type"));

        var form = request.Form;
        Assert.Equal("Publish", form["Action"]);
        Assert.Equal("2010-03-31", form["Version"]);
        Assert.Equal(TopicArn, form["TopicArn"]);
        Assert.Equal("Hello & welcome = café", form["Message"]);
        Assert.Equal("greeting", form["Subject"]);
        Assert.Equal("Content-Type", form["MessageAttributes.entry.1.Name"]);
        Assert.Equal("String", form["MessageAttributes.entry.1.Value.DataType"]);
        Assert.Equal("application/json", form["MessageAttributes.entry.1.Value.StringValue"]);
        Assert.Equal("attempt", form["MessageAttributes.entry.2.Name"]);
        Assert.Equal("Number", form["MessageAttributes.entry.2.Value.DataType"]);
        Assert.Equal("3", form["MessageAttributes.entry.2.Value.StringValue"]);

        var date = request.Header("X-Amz-Date")!;
        Assert.Equal($"{AccessKey}/{date[..8]}/eu-west-1/sns/aws4_request", SigV4Oracle.Scope(request));
        Assert.Contains("host", SigV4Oracle.SignedHeaders(request));
        Assert.Contains("x-amz-date", SigV4Oracle.SignedHeaders(request));
        Assert.Equal(SigV4Oracle.ExpectedSignature(request, SecretKey), SigV4Oracle.ActualSignature(request));
    }

    [Fact]
    public async Task Temporary_credentials_send_and_sign_the_session_token()
    {
        var credentials = new SessionAWSCredentials(AccessKey, SecretKey, "FQoGZXIvYXdzEXAMPLETOKEN");
        var (client, wire) = ClientAnswering(Success("CreateTopic", $"<TopicArn>{TopicArn}</TopicArn>"), credentials: credentials);

        await client.CreateTopicAsync(new CreateTopicRequest("orders"));

        var request = Assert.Single(wire.Requests);
        Assert.Equal("FQoGZXIvYXdzEXAMPLETOKEN", request.Header("X-Amz-Security-Token"));
        Assert.Contains("x-amz-security-token", SigV4Oracle.SignedHeaders(request));
        Assert.Equal(SigV4Oracle.ExpectedSignature(request, SecretKey), SigV4Oracle.ActualSignature(request));
    }

    [Fact]
    public async Task A_service_url_override_receives_the_request_and_the_signature_still_names_sns()
    {
        var options = new SnsClientOptions
        {
            Region = "us-east-1",
            ServiceUrl = new Uri("http://127.0.0.1:4566"),
            Credentials = new BasicAWSCredentials(AccessKey, SecretKey),
        };
        var wire = new RecordingHandler(HttpStatusCode.OK, Success("CreateTopic", $"<TopicArn>{TopicArn}</TopicArn>"));
        var client = new SnsClient(new HttpClient(SnsClient.CreateSigningHandler(options, wire)), options);

        await client.CreateTopicAsync(new CreateTopicRequest("orders") { Attributes = new Dictionary<string, string> { ["DisplayName"] = "Orders" } });

        var request = Assert.Single(wire.Requests);
        Assert.Equal("127.0.0.1:4566", request.Uri.Authority);
        Assert.EndsWith("/us-east-1/sns/aws4_request", SigV4Oracle.Scope(request));
        Assert.Equal("orders", request.Form["Name"]);
        Assert.Equal("DisplayName", request.Form["Attributes.entry.1.key"]);
        Assert.Equal("Orders", request.Form["Attributes.entry.1.value"]);
        Assert.Equal(SigV4Oracle.ExpectedSignature(request, SecretKey), SigV4Oracle.ActualSignature(request));
    }

    [Fact]
    public async Task Subscriptions_are_read_from_the_member_list_with_the_next_token()
    {
        var (client, wire) = ClientAnswering(Success("ListSubscriptionsByTopic", $"""
            <Subscriptions>
              <member>
                <TopicArn>{TopicArn}</TopicArn>
                <Protocol>sqs</Protocol>
                <SubscriptionArn>{TopicArn}:6b0e71bd-7e97-4d97-80ce-4a0994e55286</SubscriptionArn>
                <Owner>123456789012</Owner>
                <Endpoint>arn:aws:sqs:eu-west-1:123456789012:compute</Endpoint>
              </member>
              <member>
                <TopicArn>{TopicArn}</TopicArn>
                <Protocol>email</Protocol>
                <SubscriptionArn>PendingConfirmation</SubscriptionArn>
                <Owner>123456789012</Owner>
                <Endpoint>ops@example.com</Endpoint>
              </member>
            </Subscriptions>
            <NextToken>page-2</NextToken>
            """));

        var page = await client.ListSubscriptionsByTopicAsync(TopicArn, nextToken: "page-1");

        Assert.Equal("page-1", Assert.Single(wire.Requests).Form["NextToken"]);
        Assert.Equal("page-2", page.NextToken);
        Assert.Equal(2, page.Subscriptions.Count);
        Assert.Equal(new SnsSubscription($"{TopicArn}:6b0e71bd-7e97-4d97-80ce-4a0994e55286", "123456789012", "sqs",
            "arn:aws:sqs:eu-west-1:123456789012:compute", TopicArn), page.Subscriptions[0]);
        Assert.Equal("ops@example.com", page.Subscriptions[1].Endpoint);
    }

    [Fact]
    public async Task An_error_answer_becomes_an_AmazonSnsException_with_the_aws_error_code()
    {
        var (client, _) = ClientAnswering("""
            <ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
              <Error>
                <Type>Sender</Type>
                <Code>NotFound</Code>
                <Message>Topic does not exist</Message>
              </Error>
              <RequestId>9dd01905-5012-5f99-8663-4b3ecd0dfaef</RequestId>
            </ErrorResponse>
            """, HttpStatusCode.NotFound);

        var error = await Assert.ThrowsAsync<AmazonSnsException>(() => client.PublishAsync(new PublishRequest(TopicArn, "x")));

        Assert.Equal("NotFound", error.ErrorCode);
        Assert.Equal(ErrorType.Sender, error.ErrorType);
        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal("9dd01905-5012-5f99-8663-4b3ecd0dfaef", error.RequestId);
        Assert.Equal("Publish", error.Action);
        Assert.Contains("Topic does not exist", error.Message);
    }

    [Fact]
    public async Task An_answer_that_is_not_xml_is_a_clear_error_not_a_parser_crash()
    {
        var (client, _) = ClientAnswering("<html><body>502 Bad Gateway", HttpStatusCode.BadGateway);

        var error = await Assert.ThrowsAsync<AmazonSnsException>(() => client.CreateTopicAsync(new CreateTopicRequest("orders")));

        Assert.Equal("MalformedResponse", error.ErrorCode);
        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Contains("502 Bad Gateway", error.Message);
    }

    private const string Throttled = """
        <ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
          <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
          <RequestId>5b3e3e1a-0000-4000-8000-000000000000</RequestId>
        </ErrorResponse>
        """;

    [Fact]
    public async Task A_throttled_call_is_sent_again_signed_afresh_until_it_gets_through()
    {
        var (client, wire) = ClientAnswering(Success("Publish", "<MessageId>m-1</MessageId>"));
        wire.First.Enqueue((HttpStatusCode.BadRequest, Throttled));
        wire.First.Enqueue((HttpStatusCode.BadRequest, Throttled));

        var published = await client.PublishAsync(new PublishRequest(TopicArn, "x"));

        Assert.Equal("m-1", published.MessageId);
        Assert.Equal(3, wire.Requests.Count);
        Assert.All(wire.Requests, r => Assert.StartsWith("AWS4-HMAC-SHA256 ", r.Header("Authorization")));
        Assert.All(wire.Requests, r => Assert.Equal("x", r.Form["Message"]));
    }

    [Fact]
    public async Task Throttling_that_lasts_fails_after_three_attempts_and_other_errors_are_not_sent_again()
    {
        var (throttled, throttledWire) = ClientAnswering(Throttled, HttpStatusCode.BadRequest);
        var error = await Assert.ThrowsAsync<AmazonSnsException>(() => throttled.PublishAsync(new PublishRequest(TopicArn, "x")));
        Assert.Equal(("Throttling", SnsClient.MaxAttempts), (error.ErrorCode, throttledWire.Requests.Count));

        var (refused, refusedWire) = ClientAnswering("""
            <ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
              <Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>no</Message></Error>
            </ErrorResponse>
            """, HttpStatusCode.BadRequest);
        await Assert.ThrowsAsync<AmazonSnsException>(() => refused.PublishAsync(new PublishRequest(TopicArn, "x")));
        Assert.Single(refusedWire.Requests);
    }
}
