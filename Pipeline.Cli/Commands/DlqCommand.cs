using System.CommandLine;
using System.Text.Json;
using EventBus.AwsSqs;

namespace Pipeline.Cli.Commands;

/// <summary><c>pipeline dlq list|redrive [--queue validate|transform|compute|notifier]</c>: the services' dead letters.</summary>
internal sealed class DlqCommand : Command
{
    /// <summary>The service endpoints whose queues have dead-letter queues.</summary>
    private static readonly string[] Endpoints = ["validate", "transform", "compute", "notifier"];

    public DlqCommand()
        : base("dlq", "Inspect or redrive the services' dead-letter queues.")
    {
        Subcommands.Add(new ListCommand());
        Subcommands.Add(new RedriveCommand());
    }

    private static Option<string[]> QueueOption()
    {
        var option = new Option<string[]>("--queue")
        {
            Description = $"The service whose dead letters to use: {string.Join(", ", Endpoints)} (repeatable). Default: all four.",
            DefaultValueFactory = _ => Endpoints,
        };
        // One line, unlike the parser's own list of allowed values.
        option.Validators.Add(result =>
        {
            if (result.Tokens.FirstOrDefault(t => !Endpoints.Contains(t.Value)) is { } unknown)
            {
                result.AddError($"--queue '{unknown.Value}' is none of {string.Join(", ", Endpoints)}");
            }
        });
        return option;
    }

    private static IEnumerable<DeadLetterQueue> Queues(ParseResult result, Option<string[]> option, AwsConnection aws) =>
        result.GetRequiredValue(option).Distinct().Select(e => new DeadLetterQueue(aws.Sqs, aws.Topology.EndpointQueue(e).Name));

    /// <summary>The dead letters, left where they are: queue, message, batch, why, and the exception.</summary>
    private sealed class ListCommand : AwsCommand
    {
        private readonly Option<string[]> _queue = QueueOption();
        private readonly Option<int> _max = new("--max") { Description = "At most this many per queue.", DefaultValueFactory = _ => 100 };

        public ListCommand()
            : base("list", "List dead letters: batch, reason and exception.")
        {
            Options.Add(_queue);
            Options.Add(_max);
        }

        protected override async Task<int> RunAsync(ParseResult result, AwsConnection aws, CancellationToken cancellationToken)
        {
            var rows = new List<IReadOnlyList<string>>();
            foreach (var queue in Queues(result, _queue, aws))
            {
                foreach (var letter in await queue.PeekAsync(result.GetValue(_max), cancellationToken))
                {
                    var exception = letter.ExceptionType is null ? "" : $"{letter.ExceptionType}: {letter.ExceptionMessage}";
                    rows.Add([queue.Name, letter.MessageId, BatchIdOf(letter.Body), letter.Reason ?? "redriven by SQS", exception]);
                }
            }
            TextTable.Write(Console.Out, ["queue", "message", "batch", "reason", "exception"], rows);
            return ExitCodes.Accepted;
        }

        /// <summary>The batch a message is about: the <c>batchId</c> of its envelope's message (every pipeline message has one).</summary>
        private static string BatchIdOf(string body)
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                return json.RootElement.ValueKind == JsonValueKind.Object
                    && json.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object
                    && message.TryGetProperty("batchId", out var batchId) && batchId.ValueKind == JsonValueKind.String
                    ? batchId.GetString()!
                    : "-";
            }
            catch (JsonException)
            {
                return "-";
            }
        }
    }

    /// <summary>Moves dead letters back to their service's queue for another try.</summary>
    private sealed class RedriveCommand : AwsCommand
    {
        private readonly Option<string[]> _queue = QueueOption();

        public RedriveCommand()
            : base("redrive", "Move dead letters back to their service's queue.")
        {
            Options.Add(_queue);
        }

        protected override async Task<int> RunAsync(ParseResult result, AwsConnection aws, CancellationToken cancellationToken)
        {
            foreach (var queue in Queues(result, _queue, aws))
            {
                var moved = await queue.RedriveAsync(cancellationToken: cancellationToken);
                Console.Out.WriteLine($"{queue.Name}: {moved} message(s) moved back to {queue.QueueName}");
            }
            return ExitCodes.Accepted;
        }
    }
}
