namespace EventBus;

/// <summary>A message that can never be handled (not JSON, no envelope, an unknown type): a poison message.</summary>
public sealed class MessageFormatException(string message, Exception? innerException = null) : Exception(message, innerException);
