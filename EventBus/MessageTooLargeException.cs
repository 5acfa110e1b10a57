namespace EventBus;

/// <summary>
/// A message larger than the transport carries (an SNS publish: 256 KiB with its attributes). Publishing the same message
/// again cannot succeed, so a handler that would publish it refuses the message it handles at once (it is poison: the
/// same input gives the same output). Large data belongs in storage, with its key in the message.
/// </summary>
public sealed class MessageTooLargeException(string message) : PoisonMessageException(message);
