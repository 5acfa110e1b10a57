namespace EventBus;

/// <summary>
/// A message that can never be handled, however often it is delivered: the transport dead-letters it at once, without
/// retries, with this exception's message as the reason. Throw it from a handler for a message that is wrong for good
/// (it breaks a rule of the business, names something that cannot exist), never for a failure a retry may cure.
/// Only the exception the handler throws counts, not one wrapped in another.
/// </summary>
public class PoisonMessageException(string reason, Exception? innerException = null) : Exception(reason, innerException);
