using System.Text.Json;
using System.Text.Json.Nodes;
using EventBus.AwsSqs;
using MassTransit;
using MassTransit.Context;
using MassTransit.Serialization;
using Pipeline.Contracts;

namespace EventBus.Tests;

/// <summary>
/// The wire format against MassTransit: a golden envelope written by MassTransit 8.5.12's System.Text.Json serializer
/// (Samples/, with fixed ids), and that serializer itself reading ours and writing one ours reads.
/// </summary>
public class EnvelopeTests
{
    private static readonly BatchSubmitted Batch = new("20250409", "ecommerce-pipeline-data", "data/20250409/manifest_20250409.json",
        "\"9b2cf535f27731c974343645a3985328\"", new DateTimeOffset(2025, 4, 9, 6, 0, 0, TimeSpan.Zero), "cli");

    private static readonly string Golden = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", "masstransit-batch-submitted.json"));

    [Fact]
    public void The_golden_MassTransit_envelope_is_read_with_its_message_and_context()
    {
        var envelope = EnvelopeSerializer.Deserialize(Golden);
        var context = envelope.ToContext("pipeline-validate", "sqs-message-id", receiveCount: 2);

        Assert.Equal(Batch, EnvelopeSerializer.ReadMessage(envelope.Message!.Value, typeof(BatchSubmitted)));
        Assert.Equal("aa6e0000-d99a-2315-555f-08df4b4a9b85", context.MessageId);
        Assert.Equal(Guid.Parse("c2d1e8a4-5b0f-4a51-9d0e-6f1a2b3c4d5e"), context.CorrelationId);
        Assert.Equal(Guid.Parse("aa6e0000-d99a-2315-555f-08df4b4a9b85"), context.ConversationId);
        Assert.Null(context.InitiatorId);
        Assert.Equal(new Uri("amazonsqs://us-east-1/pipeline-cli"), context.SourceAddress);
        Assert.Equal(["urn:message:Pipeline.Contracts:BatchSubmitted"], context.MessageTypes);
        Assert.Equal(new DateTimeOffset(2025, 4, 9, 6, 0, 1, TimeSpan.Zero).AddTicks(1234567), context.SentTime);
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", context.Headers["traceparent"]);
        Assert.Equal(2, context.ReceiveCount);
    }

    [Theory]
    [InlineData("""{"messageType":[null],"message":{}}""", "The envelope's 'messageType' has an empty entry; each must be a message type URN.")]
    [InlineData("""{"messageType":[""],"message":{}}""", "The envelope's 'messageType' has an empty entry; each must be a message type URN.")]
    [InlineData("""{"messageType":[],"message":{}}""", "The body is not a message envelope: it lacks 'message' or 'messageType'.")]
    public void An_envelope_without_a_usable_message_type_is_poison_with_the_reason(string json, string reason) =>
        Assert.Equal(reason, Assert.Throws<MessageFormatException>(() => EnvelopeSerializer.Deserialize(json)).Message);

    [Theory]
    [InlineData("""{"bucket":"b","version":1,"dataKeys":["k"]}""", "The message does not fit BatchTransformed: batchId is missing (it is required)")]
    [InlineData(
        """{"batchId":"b","bucket":"b","manifestKey":"m","version":1,"dataPrefix":"p"}""",
        "The message does not fit BatchTransformed: dataKeys is missing (it is required)")]
    [InlineData(
        """{"batchId":null,"bucket":"b","manifestKey":"m","version":1,"dataPrefix":"p","dataKeys":[]}""",
        "The message does not fit BatchTransformed: batchId is missing (it is required)")]
    public void A_message_without_a_field_its_type_requires_is_poison_naming_the_field(string json, string reason) =>
        Assert.Equal(
            reason,
            Assert.Throws<MessageFormatException>(() => EnvelopeSerializer.ReadMessage(JsonDocument.Parse(json).RootElement, typeof(BatchTransformed)))
                .Message);

    [Fact]
    public void Fields_a_type_leaves_optional_may_be_missing()
    {
        var message = EnvelopeSerializer.ReadMessage(
            JsonDocument.Parse("""{"bucket":"b","manifestKey":"data/x/manifest_x.json"}""").RootElement,
            typeof(BatchSubmitted));

        Assert.Equal(new BatchSubmitted(null, "b", "data/x/manifest_x.json"), message);
    }

    [Fact]
    public void Our_envelope_has_the_golden_samples_properties_in_its_order_and_the_same_message()
    {
        var envelope = EnvelopeSerializer.Wrap(
            Batch, Guid.Parse("aa6e0000-d99a-2315-555f-08df4b4a9b85"), new DateTimeOffset(2025, 4, 9, 6, 0, 1, TimeSpan.Zero));
        var ours = JsonNode.Parse(EnvelopeSerializer.Serialize(envelope))!.AsObject();
        var golden = JsonNode.Parse(Golden)!.AsObject();

        Assert.Equal(golden.Select(p => p.Key), ours.Select(p => p.Key));
        Assert.Equal(golden["host"]!.AsObject().Select(p => p.Key), ours["host"]!.AsObject().Select(p => p.Key));
        Assert.True(JsonNode.DeepEquals(golden["message"], ours["message"]), ours["message"]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(golden["messageType"], ours["messageType"]));
        Assert.Equal("2025-04-09T06:00:01Z", ours["sentTime"]!.GetValue<string>());
        Assert.Equal("aa6e0000-d99a-2315-555f-08df4b4a9b85", ours["messageId"]!.GetValue<string>());
    }

    [Fact]
    public void MassTransits_serializer_reads_our_envelope()
    {
        var envelope = EnvelopeSerializer.Wrap(Batch, Guid.NewGuid(), DateTimeOffset.UtcNow);
        envelope.ConversationId = Guid.NewGuid().ToString();
        envelope.CorrelationId = Guid.NewGuid().ToString();
        envelope.SourceAddress = "amazonsqs://us-east-1/pipeline-cli";
        envelope.Headers!["traceparent"] = EnvelopeSerializer.HeaderValue("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

        var serializer = SystemTextJsonMessageSerializer.Instance;
        var context = serializer.Deserialize(serializer.GetMessageBody(EnvelopeSerializer.Serialize(envelope)), EmptyHeaders.Instance);

        Assert.True(context.TryGetMessage<BatchSubmitted>(out var message));
        Assert.Equal(Batch, message);
        Assert.Equal(Guid.Parse(envelope.MessageId!), context.MessageId);
        Assert.Equal(Guid.Parse(envelope.ConversationId), context.ConversationId);
        Assert.Equal(Guid.Parse(envelope.CorrelationId), context.CorrelationId);
        Assert.Equal(new Uri("amazonsqs://us-east-1/pipeline-cli"), context.SourceAddress);
        Assert.Equal(["urn:message:Pipeline.Contracts:BatchSubmitted"], context.SupportedMessageTypes);
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", context.Headers.Get<string>("traceparent"));
    }

    [Fact]
    public void We_read_what_MassTransits_serializer_writes()
    {
        var send = new MessageSendContext<BatchSubmitted>(Batch)
        {
            SourceAddress = new Uri("amazonsqs://us-east-1/masstransit-service"),
            CorrelationId = Guid.NewGuid(),
        };
        send.ConversationId = send.MessageId;
        send.Headers.Set("MT-Activity-Id", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        var json = SystemTextJsonMessageSerializer.Instance.GetMessageBody(send).GetString();

        var envelope = EnvelopeSerializer.Deserialize(json);
        var context = envelope.ToContext("pipeline-validate", "sqs-id", 1);

        Assert.Equal(Batch, EnvelopeSerializer.ReadMessage(envelope.Message!.Value, typeof(BatchSubmitted)));
        Assert.Equal(send.MessageId.ToString(), context.MessageId);
        Assert.Equal(send.ConversationId, context.ConversationId);
        Assert.Equal(send.CorrelationId, context.CorrelationId);
        Assert.Equal(send.SourceAddress, context.SourceAddress);
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", context.Headers["MT-Activity-Id"]);
        Assert.Equal(MessageNaming.UrnOf<BatchSubmitted>(), Assert.Single(context.MessageTypes));
    }

    [Fact]
    public void Message_attributes_carry_the_content_type_and_trace_first_and_never_exceed_ten()
    {
        var envelope = EnvelopeSerializer.Wrap(Batch, Guid.NewGuid(), DateTimeOffset.UtcNow);
        envelope.ConversationId = envelope.MessageId;
        for (var i = 0; i < 15; i++)
        {
            envelope.Headers![$"x-header-{i}"] = EnvelopeSerializer.HeaderValue($"value {i}");
        }
        envelope.Headers!["x-number"] = JsonSerializer.SerializeToElement(42);
        envelope.Headers["AWS.reserved"] = EnvelopeSerializer.HeaderValue("not allowed by SQS");
        envelope.Headers["traceparent"] = EnvelopeSerializer.HeaderValue("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

        var attributes = MessageAttributes.For(envelope);

        Assert.Equal(10, attributes.Count);
        Assert.Equal(["Content-Type", "MessageId", "ConversationId", "traceparent"], attributes.Keys.Take(4));
        Assert.Equal("application/vnd.masstransit+json", attributes["Content-Type"]);
        Assert.DoesNotContain("AWS.reserved", attributes.Keys);
    }
}
