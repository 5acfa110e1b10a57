using Amazon.CDK;
using Amazon.CDK.AWS.Cognito;
using Amazon.CDK.AWS.ElasticLoadBalancingV2;
using Amazon.CDK.AWS.ElasticLoadBalancingV2.Actions;
using Constructs;
using Pipeline.Topology;

namespace Deploy;

/// <summary>
/// Sign-in at the dashboard's load balancer: an <c>authenticate-oidc</c> or <c>authenticate-cognito</c> action in front of
/// the forward to the tasks, on whenever a certificate is given (the load balancer authenticates only over HTTPS). The
/// security group's allowed network stays a second wall. Health checks go from the load balancer to the tasks directly.
/// </summary>
public static partial class DashboardSignIn
{
    /// <summary>How long a sign-in lasts before the load balancer asks the provider again (a working day).</summary>
    public static readonly TimeSpan SessionTimeout = TimeSpan.FromHours(12);

    /// <summary>Where the load balancer receives the provider's answer (register it with the provider as the redirect URI).</summary>
    public static string CallbackUrl(string domainName) => $"https://{domainName}/oauth2/idpresponse";

    /// <summary>
    /// What the listener does with a request: sign the person in first when the settings say so, then <paramref name="next"/>.
    /// The load balancer gets HTTPS out to reach the provider's token and user-info endpoints.
    /// </summary>
    public static ListenerAction Action(Construct scope, DeploySettings settings, ListenerAction next)
    {
        var signIn = settings.SignIn;
        switch (ModeOf(settings))
        {
            case DashboardSignInMode.Oidc:
                var (secretId, field) = SplitSecretId(signIn.OidcClientSecretId!);
                return ListenerAction.AuthenticateOidc(new AuthenticateOidcOptions
                {
                    Issuer = signIn.OidcIssuer!,
                    AuthorizationEndpoint = signIn.OidcAuthorizationEndpoint!,
                    TokenEndpoint = signIn.OidcTokenEndpoint!,
                    UserInfoEndpoint = signIn.OidcUserInfoEndpoint!,
                    ClientId = signIn.OidcClientId!,
                    // A dynamic reference: CloudFormation reads the secret at deployment; the template never holds it.
                    ClientSecret = SecretValue.SecretsManager(secretId, new SecretsManagerSecretOptions { JsonField = field }),
                    Scope = "openid",
                    SessionTimeout = Duration.Seconds(SessionTimeout.TotalSeconds),
                    Next = next,
                });
            case DashboardSignInMode.CognitoUserPool:
                return Cognito(
                    UserPool.FromUserPoolArn(scope, "UserPool", signIn.CognitoUserPoolArn!),
                    UserPoolClient.FromUserPoolClientId(scope, "UserPoolClient", signIn.CognitoClientId!),
                    UserPoolDomain.FromDomainName(scope, "UserPoolDomain", signIn.CognitoDomain!),
                    next);
            case DashboardSignInMode.NewCognitoUserPool:
                var pool = NewUserPool(scope, settings);
                var client = pool.AddClient("LoadBalancerClient", new UserPoolClientOptions
                {
                    UserPoolClientName = "dashboard-load-balancer",
                    // The load balancer is a confidential client: it redeems the code with the client secret.
                    GenerateSecret = true,
                    AuthFlows = new AuthFlow { UserSrp = true },
                    OAuth = new OAuthSettings
                    {
                        Flows = new OAuthFlows { AuthorizationCodeGrant = true },
                        Scopes = [OAuthScope.OPENID, OAuthScope.EMAIL],
                        CallbackUrls = [CallbackUrl(settings.DashboardDomainName!)],
                    },
                    SupportedIdentityProviders = [UserPoolClientIdentityProvider.COGNITO],
                    PreventUserExistenceErrors = true,
                });
                var domain = pool.AddDomain("Domain", new UserPoolDomainOptions
                {
                    CognitoDomain = new CognitoDomainOptions { DomainPrefix = NewPoolDomainPrefix(settings) },
                });
                _ = new CfnOutput(Stack.Of(scope), StackOutputNames.DashboardUserPoolId, new CfnOutputProps
                {
                    Description = "The dashboard's user pool: add people with aws cognito-idp admin-create-user (docs/dashboard.md)",
                    Value = pool.UserPoolId,
                });
                return Cognito(pool, client, domain, next);
            default:
                return next;
        }
    }

    private static AuthenticateCognitoAction Cognito(IUserPool pool, IUserPoolClient client, IUserPoolDomain domain, ListenerAction next) =>
        new(new AuthenticateCognitoActionProps
        {
            UserPool = pool,
            UserPoolClient = client,
            UserPoolDomain = domain,
            Scope = "openid",
            SessionTimeout = Duration.Seconds(SessionTimeout.TotalSeconds),
            Next = next,
        });

    /// <summary>Only an administrator adds people (each gets an email with a temporary password); a second factor by app is offered.</summary>
    private static UserPool NewUserPool(Construct scope, DeploySettings settings) => new(scope, "UserPool", new UserPoolProps
    {
        UserPoolName = ((PipelineStack)Stack.Of(scope)).Topology.DashboardUserPoolName,
        SelfSignUpEnabled = false,
        SignInAliases = new SignInAliases { Email = true },
        AutoVerify = new AutoVerifiedAttrs { Email = true },
        AccountRecovery = AccountRecovery.EMAIL_ONLY,
        Mfa = Mfa.OPTIONAL,
        MfaSecondFactor = new MfaSecondFactor { Otp = true, Sms = false },
        PasswordPolicy = new PasswordPolicy
        {
            MinLength = 12,
            RequireLowercase = true,
            RequireUppercase = true,
            RequireDigits = true,
            RequireSymbols = false,
            TempPasswordValidity = Duration.Days(3),
        },
        UserInvitation = new UserInvitationConfig
        {
            EmailSubject = "Your sign-in to the pipeline's KPI dashboard",
            EmailBody = $"You can now read the KPI dashboard at https://{settings.DashboardDomainName}/ . Sign in as {{username}} with the " +
                "temporary password {####} within 3 days; you will choose your own password then.",
        },
        // The pool holds only who may read the dashboard; deleting the stack deletes it (docs/dashboard.md, Access).
        RemovalPolicy = RemovalPolicy.DESTROY,
    });

    /// <summary>The new pool's domain prefix: the setting, or <c>&lt;stack&gt;-&lt;account&gt;</c> (prefixes are unique per region across AWS).</summary>
    private static string NewPoolDomainPrefix(DeploySettings settings) =>
        settings.SignIn.CognitoDomain ?? PipelineTopology.SignInDomainPrefix(settings.StackName, Amazon.CDK.Aws.ACCOUNT_ID);

    private static (string SecretId, string? Field) SplitSecretId(string value) =>
        value.IndexOf('#', StringComparison.Ordinal) is var hash and >= 0 ? (value[..hash], value[(hash + 1)..]) : (value, null);
}
