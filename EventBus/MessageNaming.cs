using System.Collections.Concurrent;
using System.Reflection;

namespace EventBus;

/// <summary>Overrides the message type URN (<c>urn:message:Namespace:Type</c>), for a type that moved or was renamed.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface, Inherited = false)]
public sealed class MessageUrnAttribute(string urn) : Attribute
{
    public string Urn { get; } = urn;
}

/// <summary>Overrides the name of the topic a message type is published to.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface, Inherited = false)]
public sealed class EntityNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>
/// MassTransit's names for a message type, so that MassTransit endpoints and ours find each other:
/// the URN in the envelope's <c>messageType</c> and the topic (entity) name on SNS.
/// </summary>
public static class MessageNaming
{
    private const string UrnPrefix = "urn:message:";
    private static readonly ConcurrentDictionary<Type, string> s_urns = new();
    private static readonly ConcurrentDictionary<Type, string> s_entityNames = new();

    /// <summary><c>urn:message:Pipeline.Contracts:BatchValidated</c>; a nested type is <c>Outer+Inner</c>.</summary>
    public static string UrnOf(Type messageType) => s_urns.GetOrAdd(messageType, static type =>
        type.GetCustomAttribute<MessageUrnAttribute>()?.Urn ?? UrnPrefix + QualifiedName(type, ':'));

    public static string UrnOf<TMessage>() => UrnOf(typeof(TMessage));

    /// <summary>
    /// The topic name by MassTransit's Amazon SQS convention: the namespace with <c>.</c> as <c>_</c>, then <c>-</c>,
    /// then the type name (<c>Pipeline_Contracts-BatchValidated</c>), unless <see cref="EntityNameAttribute"/> says otherwise.
    /// </summary>
    public static string EntityNameOf(Type messageType) => s_entityNames.GetOrAdd(messageType, static type =>
        type.GetCustomAttribute<EntityNameAttribute>()?.Name ?? QualifiedName(type, '-').Replace('.', '_').Replace('+', '_'));

    public static string EntityNameOf<TMessage>() => EntityNameOf(typeof(TMessage));

    /// <summary>
    /// An entity name under a scope, as MassTransit names topics with <c>Scope(scope, scopeTopics: true)</c>:
    /// <c>{scope}_{entityName}</c>, or the entity name itself without a scope.
    /// </summary>
    public static string ScopedEntityName(string entityName, string? scope) =>
        string.IsNullOrEmpty(scope) ? entityName : $"{scope}_{entityName}";

    private static string QualifiedName(Type type, char separator)
    {
        if (type.IsGenericType)
        {
            // MassTransit encodes type arguments in the URN; none of our contracts needs that, so refuse rather than guess.
            throw new NotSupportedException(
                $"Generic message type {type} is not supported: give it a [MessageUrn] and an [EntityName], or use a closed record.");
        }

        var name = type.Name;
        for (var outer = type.DeclaringType; outer is not null; outer = outer.DeclaringType)
        {
            name = outer.Name + "+" + name;
        }
        return string.IsNullOrEmpty(type.Namespace) ? name : type.Namespace + separator + name;
    }
}
