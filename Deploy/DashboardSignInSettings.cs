using System.Text.RegularExpressions;

namespace Deploy;

/// <summary>Who signs people in to the dashboard, from the settings (see <see cref="DashboardSignIn.ModeOf"/>).</summary>
public enum DashboardSignInMode
{
    /// <summary>No certificate: plain HTTP inside the network, no sign-in (the allowed network is the only wall).</summary>
    None,

    /// <summary>The company's OpenID Connect provider (<c>dashboardOidc*</c>).</summary>
    Oidc,

    /// <summary>An existing Cognito user pool, its app client and its domain (<c>dashboardCognito*</c>).</summary>
    CognitoUserPool,

    /// <summary>A user pool of the stack's own, whose users an administrator creates (no self sign-up).</summary>
    NewCognitoUserPool,
}

/// <summary>The settings of the dashboard's sign-in, given to <c>synth</c> as <c>key=value</c> like the others (docs/deploy.md).</summary>
public sealed record DashboardSignInSettings
{
    public string? OidcIssuer { get; init; }

    public string? OidcAuthorizationEndpoint { get; init; }

    public string? OidcTokenEndpoint { get; init; }

    public string? OidcUserInfoEndpoint { get; init; }

    public string? OidcClientId { get; init; }

    /// <summary>
    /// The Secrets Manager secret (name or ARN, and <c>#field</c> when its value is JSON) that holds the OIDC client secret:
    /// the template carries a dynamic reference, which CloudFormation resolves at deployment, never the secret.
    /// </summary>
    public string? OidcClientSecretId { get; init; }

    public string? CognitoUserPoolArn { get; init; }

    public string? CognitoClientId { get; init; }

    /// <summary>An existing pool's domain (its prefix or its own name), or the prefix of the new pool's domain.</summary>
    public string? CognitoDomain { get; init; }

    // Before Keys, which uses them (static fields are initialized in order).
    internal static readonly string[] OidcKeys =
    [
        "dashboardOidcIssuer", "dashboardOidcAuthorizationEndpoint", "dashboardOidcTokenEndpoint", "dashboardOidcUserInfoEndpoint",
        "dashboardOidcClientId", "dashboardOidcClientSecretId",
    ];

    internal static readonly string[] CognitoKeys = ["dashboardCognitoUserPoolArn", "dashboardCognitoClientId", "dashboardCognitoDomain"];

    internal static readonly IReadOnlyDictionary<string, Func<DashboardSignInSettings, string, DashboardSignInSettings>> Keys =
        new Dictionary<string, Func<DashboardSignInSettings, string, DashboardSignInSettings>>(StringComparer.Ordinal)
        {
            [OidcKeys[0]] = (s, v) => s with { OidcIssuer = DashboardSignIn.HttpsUrl(OidcKeys[0], v) },
            [OidcKeys[1]] = (s, v) => s with { OidcAuthorizationEndpoint = DashboardSignIn.HttpsUrl(OidcKeys[1], v) },
            [OidcKeys[2]] = (s, v) => s with { OidcTokenEndpoint = DashboardSignIn.HttpsUrl(OidcKeys[2], v) },
            [OidcKeys[3]] = (s, v) => s with { OidcUserInfoEndpoint = DashboardSignIn.HttpsUrl(OidcKeys[3], v) },
            [OidcKeys[4]] = (s, v) => s with { OidcClientId = DashboardSignIn.NotBlank(OidcKeys[4], v) },
            [OidcKeys[5]] = (s, v) => s with { OidcClientSecretId = DashboardSignIn.SecretId(OidcKeys[5], v) },
            [CognitoKeys[0]] = (s, v) => s with { CognitoUserPoolArn = DashboardSignIn.UserPoolArn(CognitoKeys[0], v) },
            [CognitoKeys[1]] = (s, v) => s with { CognitoClientId = DashboardSignIn.ClientId(CognitoKeys[1], v) },
            [CognitoKeys[2]] = (s, v) => s with { CognitoDomain = DashboardSignIn.NotBlank(CognitoKeys[2], v) },
        };

    internal IEnumerable<(string Key, string? Value)> Oidc =>
        OidcKeys.Zip([OidcIssuer, OidcAuthorizationEndpoint, OidcTokenEndpoint, OidcUserInfoEndpoint, OidcClientId, OidcClientSecretId]);

    /// <summary>An existing pool is named by these two; the domain alone is the new pool's.</summary>
    internal IEnumerable<(string Key, string? Value)> ExistingPool => CognitoKeys.Zip([CognitoUserPoolArn, CognitoClientId, CognitoDomain]);
}

/// <summary>The sign-in settings read and checked: which mode they ask for, and each value's form.</summary>
public static partial class DashboardSignIn
{
    /// <summary>The sign-in the settings ask for.</summary>
    /// <exception cref="ArgumentException">Half a configuration, two at once, or one the network or the listener cannot serve.</exception>
    public static DashboardSignInMode ModeOf(DeploySettings settings)
    {
        var signIn = settings.SignIn;
        var oidc = signIn.Oidc.ToList();
        var pool = signIn.ExistingPool.ToList();
        var oidcGiven = oidc.Where(s => s.Value is not null).Select(s => s.Key).ToList();
        var poolGiven = pool.Take(2).Where(s => s.Value is not null).Select(s => s.Key).ToList();
        if (oidcGiven.Count > 0 && (poolGiven.Count > 0 || signIn.CognitoDomain is not null))
        {
            throw new ArgumentException(
                $"The dashboard signs people in with OIDC ({string.Join(", ", oidcGiven)}) or with a Cognito user pool " +
                $"({string.Join(", ", pool.Where(s => s.Value is not null).Select(s => s.Key))}), not both.");
        }

        var (mode, namedBy) = oidcGiven.Count > 0 ? (DashboardSignInMode.Oidc, oidcGiven[0])
            : poolGiven.Count > 0 ? (DashboardSignInMode.CognitoUserPool, poolGiven[0])
            : settings.DashboardCertificateArn is not null || signIn.CognitoDomain is not null
                ? (DashboardSignInMode.NewCognitoUserPool, "dashboardCognitoDomain")
            : (DashboardSignInMode.None, "");
        var needed = mode switch { DashboardSignInMode.Oidc => oidc, DashboardSignInMode.CognitoUserPool => pool, _ => [] };
        if (needed.Where(s => s.Value is null).Select(s => s.Key).ToList() is { Count: > 0 } missing)
        {
            throw new ArgumentException(
                $"{namedBy}: sign-in with {(mode == DashboardSignInMode.Oidc ? "OIDC" : "an existing Cognito user pool")} needs all of " +
                $"{string.Join(", ", needed.Select(s => s.Key))}; missing: {string.Join(", ", missing)}.");
        }
        if (mode == DashboardSignInMode.None)
        {
            return mode;
        }
        if (settings.DashboardCertificateArn is null)
        {
            throw new ArgumentException(
                $"{namedBy}: the load balancer signs people in only over HTTPS; give dashboardCertificateArn (an ACM certificate for dashboardDomainName).");
        }
        if (settings.VpcId is null && settings.NatGateways == 0)
        {
            throw new ArgumentException(
                "natGateways=0: the dashboard's internal load balancer then has no route out, and signing people in means calling the identity " +
                "provider over HTTPS; use natGateways=1 (or 2), or an existing VPC whose subnets reach the internet.");
        }
        if (mode == DashboardSignInMode.NewCognitoUserPool)
        {
            if (settings.DashboardDomainName is null)
            {
                throw new ArgumentException(
                    "dashboardCertificateArn: with a certificate the dashboard signs people in, by default with a Cognito user pool of the stack's own, " +
                    "which must know the dashboard's address: give dashboardDomainName (the name the certificate is for), or the settings of your own " +
                    $"OIDC provider ({string.Join(", ", SettingsOf(oidc))}) or user pool ({string.Join(", ", SettingsOf(pool))}).");
            }
            CheckNewPoolDomainPrefix(settings);
        }
        return mode;
    }

    private static void CheckNewPoolDomainPrefix(DeploySettings settings)
    {
        if (settings.SignIn.CognitoDomain is { } prefix)
        {
            _ = DomainPrefix("dashboardCognitoDomain", prefix);
            return;
        }
        var stackPart = settings.StackName.ToLowerInvariant();
        if (stackPart.Length + 1 + AccountIdLength > 63 || ReservedInPrefix.Any(r => stackPart.Contains(r, StringComparison.Ordinal)))
        {
            throw new ArgumentException(
                $"dashboardCognitoDomain: the user pool's domain prefix would be '{stackPart}-<account>', which Cognito refuses (at most 63 characters, " +
                $"none of {string.Join(", ", ReservedInPrefix)}); name one, such as dashboardCognitoDomain=acme-kpis.");
        }
    }

    private const int AccountIdLength = 12;

    private static readonly string[] ReservedInPrefix = ["aws", "amazon", "cognito"];

    private static string DomainPrefix(string key, string value) =>
        DomainPrefixPattern().IsMatch(value) && !ReservedInPrefix.Any(r => value.Contains(r, StringComparison.Ordinal))
            ? value
            : throw new ArgumentException(
                $"{key}: '{value}' is not a Cognito domain prefix for a new user pool (lower-case letters, digits and '-', at most 63, " +
                $"none of {string.Join(", ", ReservedInPrefix)}).");

    private static IEnumerable<string> SettingsOf(IEnumerable<(string Key, string? Value)> settings) => settings.Select(s => s.Key);

    internal static string HttpsUrl(string key, string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && uri.Host.Length > 0
            ? value
            : throw new ArgumentException($"{key}: '{value}' is not an https:// address.");

    internal static string NotBlank(string key, string value) =>
        string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"{key}: empty.") : value;

    /// <summary>A secret's name or ARN, never a secret: names are letters, digits and <c>/_+=.@-</c>.</summary>
    internal static string SecretId(string key, string value) =>
        SecretIdPattern().IsMatch(value)
            ? value
            : throw new ArgumentException(
                $"{key}: not the name or ARN of a Secrets Manager secret (with #field when its value is JSON); the template names the secret, " +
                "CloudFormation reads it at deployment. Put the client secret in Secrets Manager and name it here.");

    internal static string UserPoolArn(string key, string value) =>
        UserPoolArnPattern().IsMatch(value)
            ? value
            : throw new ArgumentException($"{key}: '{value}' is not a user pool ARN (arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>).");

    internal static string ClientId(string key, string value) =>
        ClientIdPattern().IsMatch(value) ? value : throw new ArgumentException($"{key}: '{value}' is not a user pool app client id.");

    internal static string DomainName(string key, string value) =>
        DomainNamePattern().IsMatch(value)
            ? value.ToLowerInvariant()
            : throw new ArgumentException($"{key}: '{value}' is not a DNS name (such as kpis.acme.example).");

    [GeneratedRegex(@"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})(#[A-Za-z0-9_.-]+)?$")]
    private static partial Regex SecretIdPattern();

    [GeneratedRegex(@"^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool/[a-z0-9-]+_[A-Za-z0-9]+$")]
    private static partial Regex UserPoolArnPattern();

    [GeneratedRegex(@"^[\w+]{1,128}$")]
    private static partial Regex ClientIdPattern();

    [GeneratedRegex(@"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex DomainPrefixPattern();

    [GeneratedRegex(@"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")]
    private static partial Regex DomainNamePattern();
}
