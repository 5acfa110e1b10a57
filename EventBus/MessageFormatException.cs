namespace EventBus;

/// <summary>A message the transport cannot read (not JSON, no envelope, an unknown type): poison before any handler sees it.</summary>
public sealed class MessageFormatException(string message, Exception? innerException = null) : PoisonMessageException(message, innerException);
