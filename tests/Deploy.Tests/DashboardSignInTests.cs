using System.Text.Json.Nodes;

namespace Deploy.Tests;

/// <summary>The dashboard's sign-in at its load balancer: each mode as the template has it, and the settings that cannot work.</summary>
[Collection(CdkCollection.Name)]
public sealed class DashboardSignInTests(SynthesizedStack stack)
{
    private const string Certificate = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    private const string Domain = "kpis.example.com";
    private const string PoolArn = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123";

    private static readonly string[] Https = [$"dashboardCertificateArn={Certificate}", $"dashboardDomainName={Domain}"];

    private static readonly string[] Oidc =
    [
        "dashboardOidcIssuer=https://login.example.com/", "dashboardOidcAuthorizationEndpoint=https://login.example.com/authorize",
        "dashboardOidcTokenEndpoint=https://login.example.com/token", "dashboardOidcUserInfoEndpoint=https://login.example.com/userinfo",
        "dashboardOidcClientId=pipeline-dashboard", "dashboardOidcClientSecretId=pipeline/dashboard-oidc#client_secret",
    ];

    private static readonly string[] ExistingPool =
        [$"dashboardCognitoUserPoolArn={PoolArn}", "dashboardCognitoClientId=1example23456789abcdefghij", "dashboardCognitoDomain=acme-auth"];

    [Fact]
    public void Without_a_certificate_the_load_balancer_forwards_to_the_tasks_and_signs_nobody_in()
    {
        var action = Assert.Single(ListenerActions(stack.Json));
        Assert.Equal("forward", (string)action["Type"]!);
        Assert.DoesNotContain(stack.Json["Resources"]!.AsObject(), IsCognito);
        Assert.Equal(DashboardSignInMode.None, DashboardSignIn.ModeOf(stack.Settings));
    }

    [Fact]
    public void Oidc_signs_people_in_before_the_tasks_and_the_template_names_the_client_secret_in_secrets_manager_never_the_secret()
    {
        var template = stack.With([.. Https, .. Oidc]);

        var (signIn, forward) = SignInThenForward(template, "authenticate-oidc");
        var config = signIn["AuthenticateOidcConfig"]!;
        Assert.Equal(
            ("https://login.example.com/", "https://login.example.com/authorize", "https://login.example.com/token", "https://login.example.com/userinfo",
             "pipeline-dashboard"),
            ((string)config["Issuer"]!, (string)config["AuthorizationEndpoint"]!, (string)config["TokenEndpoint"]!, (string)config["UserInfoEndpoint"]!,
             (string)config["ClientId"]!));
        // A dynamic reference: CloudFormation reads the secret's field at deployment.
        Assert.Equal("{{resolve:secretsmanager:pipeline/dashboard-oidc:SecretString:client_secret::}}", (string)config["ClientSecret"]!);
        Assert.Equal(("openid", DashboardSignIn.SessionTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ((string)config["Scope"]!, (string)config["SessionTimeout"]!));
        Assert.Equal(Assert.Single(template.Resources("AWS::ElasticLoadBalancingV2::TargetGroup")).Id, (string)forward["TargetGroupArn"]!["Ref"]!);
        Assert.DoesNotContain(template.Json["Parameters"]!.AsObject(), p => p.Value!["NoEcho"] is not null);
        Assert.DoesNotContain(template.Json["Resources"]!.AsObject(), IsCognito);
        AssertHttpsBehindTheAllowedNetworkWithAWayOutToTheProvider(template);
    }

    [Fact]
    public void An_existing_cognito_user_pool_signs_people_in_and_the_stack_makes_no_pool_of_its_own()
    {
        var template = stack.With([.. Https, .. ExistingPool]);

        var (signIn, _) = SignInThenForward(template, "authenticate-cognito");
        var config = signIn["AuthenticateCognitoConfig"]!;
        Assert.Equal((PoolArn, "1example23456789abcdefghij", "acme-auth"),
            ((string)config["UserPoolArn"]!, (string)config["UserPoolClientId"]!, (string)config["UserPoolDomain"]!));
        Assert.DoesNotContain(template.Json["Resources"]!.AsObject(), IsCognito);
        AssertHttpsBehindTheAllowedNetworkWithAWayOutToTheProvider(template);
    }

    [Fact]
    public void A_certificate_alone_gives_a_user_pool_of_the_stacks_own_whose_users_only_an_administrator_creates()
    {
        var template = stack.With(Https);

        var (signIn, _) = SignInThenForward(template, "authenticate-cognito");
        var (poolId, pool) = Assert.Single(template.Resources("AWS::Cognito::UserPool"));
        var (clientId, client) = Assert.Single(template.Resources("AWS::Cognito::UserPoolClient"));
        var (domainId, domain) = Assert.Single(template.Resources("AWS::Cognito::UserPoolDomain"));
        var config = signIn["AuthenticateCognitoConfig"]!;
        Assert.Equal((poolId, clientId, domainId),
            ((string)config["UserPoolArn"]!["Fn::GetAtt"]![0]!, (string)config["UserPoolClientId"]!["Ref"]!, (string)config["UserPoolDomain"]!["Ref"]!));

        var properties = pool["Properties"]!;
        Assert.True((bool)properties["AdminCreateUserConfig"]!["AllowAdminCreateUserOnly"]!);
        Assert.Equal("pipeline-dashboard-users", (string)properties["UserPoolName"]!);
        Assert.Equal(["email"], properties["UsernameAttributes"]!.AsArray().Select(a => (string)a!));
        Assert.Equal(12, (int)properties["Policies"]!["PasswordPolicy"]!["MinimumLength"]!);
        Assert.Contains(Domain, (string)properties["AdminCreateUserConfig"]!["InviteMessageTemplate"]!["EmailMessage"]!, StringComparison.Ordinal);

        // The load balancer is the pool's one client: the code flow, with a secret Cognito keeps, back to the dashboard's own name.
        var clientProperties = client["Properties"]!;
        Assert.True((bool)clientProperties["GenerateSecret"]!);
        Assert.Equal(["code"], clientProperties["AllowedOAuthFlows"]!.AsArray().Select(f => (string)f!));
        Assert.Contains("openid", clientProperties["AllowedOAuthScopes"]!.AsArray().Select(s => (string)s!));
        Assert.Equal([$"https://{Domain}/oauth2/idpresponse"], clientProperties["CallbackURLs"]!.AsArray().Select(u => (string)u!));
        Assert.Equal(["COGNITO"], clientProperties["SupportedIdentityProviders"]!.AsArray().Select(p => (string)p!));
        // The hosted sign-in page's prefix, unique per region across AWS: the stack's name and the account.
        Assert.Equal("""{"Fn::Join":["",["pipeline-",{"Ref":"AWS::AccountId"}]]}""", domain["Properties"]!["Domain"]!.ToJsonString());
        Assert.Equal(poolId, (string)template.Json["Outputs"]!["DashboardUserPoolId"]!["Value"]!["Ref"]!);
        AssertHttpsBehindTheAllowedNetworkWithAWayOutToTheProvider(template);
    }

    [Theory]
    [InlineData("dashboardOidcIssuer=https://login.example.com/",
        "missing: dashboardOidcAuthorizationEndpoint, dashboardOidcTokenEndpoint, dashboardOidcUserInfoEndpoint, dashboardOidcClientId, " +
        "dashboardOidcClientSecretId")]
    [InlineData("OIDC without a certificate", "dashboardOidcIssuer: the load balancer signs people in only over HTTPS; give dashboardCertificateArn")]
    [InlineData("OIDC and a pool", "not both")]
    [InlineData("dashboardCognitoUserPoolArn=" + PoolArn, "missing: dashboardCognitoClientId, dashboardCognitoDomain")]
    [InlineData("dashboardCognitoDomain=acme-kpis", "dashboardCognitoDomain: the load balancer signs people in only over HTTPS")]
    [InlineData("a certificate without a name", "give dashboardDomainName")]
    [InlineData("a certificate and natGateways=0", "natGateways=0")]
    [InlineData("a certificate and a long stack name", "dashboardCognitoDomain: the user pool's domain prefix")]
    [InlineData("a certificate and a stack named aws-pipeline", "none of aws, amazon, cognito")]
    [InlineData("dashboardCognitoDomain=Acme_KPIs", "not a Cognito domain prefix")]
    [InlineData("dashboardOidcTokenEndpoint=http://login.example.com/token", "not an https:// address")]
    [InlineData("dashboardOidcClientSecretId=s3cr3t value!", "not the name or ARN of a Secrets Manager secret")]
    [InlineData("dashboardCognitoUserPoolArn=eu-west-1_AbCdEf123", "not a user pool ARN")]
    [InlineData("dashboardDomainName=https://kpis.example.com", "not a DNS name")]
    public void Sign_in_settings_that_cannot_work_are_refused_naming_the_setting(string given, string named)
    {
        string[] arguments = given switch
        {
            "OIDC without a certificate" => Oidc,
            "OIDC and a pool" => [.. Https, .. Oidc, .. ExistingPool],
            "a certificate without a name" => [$"dashboardCertificateArn={Certificate}"],
            "a certificate and natGateways=0" => [.. Https, "natGateways=0"],
            "a certificate and a long stack name" => [.. Https, $"stackName=pipeline-{new string('x', 45)}", "bucketName=acme-pipeline-data"],
            "a certificate and a stack named aws-pipeline" => [.. Https, "stackName=aws-pipeline"],
            "dashboardCognitoUserPoolArn=" + PoolArn or "dashboardCognitoDomain=Acme_KPIs" => [.. Https, given],
            _ => [given],
        };

        var error = Assert.Throws<ArgumentException>(() => DeploySettings.Parse(arguments));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    private static bool IsCognito(KeyValuePair<string, JsonNode?> resource) =>
        ((string)resource.Value!["Type"]!).StartsWith("AWS::Cognito::", StringComparison.Ordinal);

    private static IEnumerable<JsonObject> ListenerActions(JsonObject template) =>
        template["Resources"]!.AsObject().Select(r => r.Value!).Single(r => (string?)r["Type"] == "AWS::ElasticLoadBalancingV2::Listener")
            ["Properties"]!["DefaultActions"]!.AsArray().Select(a => a!.AsObject());

    /// <summary>The listener's default: sign in (order 1), then forward to the dashboard's tasks (order 2); nothing else.</summary>
    private static (JsonObject SignIn, JsonObject Forward) SignInThenForward(StackTemplate template, string type)
    {
        var actions = ListenerActions(template.Json).OrderBy(a => (int)a["Order"]!).ToList();
        Assert.Equal([type, "forward"], actions.Select(a => (string)a["Type"]!));
        return (actions[0], actions[1]);
    }

    /// <summary>HTTPS only; people still only from the allowed network; the load balancer may call the provider (HTTPS out).</summary>
    private static void AssertHttpsBehindTheAllowedNetworkWithAWayOutToTheProvider(StackTemplate template)
    {
        Assert.Empty(template.Messages);
        var listener = template.Resources("AWS::ElasticLoadBalancingV2::Listener").Single().Resource["Properties"]!;
        Assert.Equal((DashboardService.HttpsListenerPort, "HTTPS"), ((int)listener["Port"]!, (string)listener["Protocol"]!));
        var balancerGroup = (string)template.Resources("AWS::ElasticLoadBalancingV2::LoadBalancer").Single().Resource["Properties"]!["SecurityGroups"]![0]!
            ["Fn::GetAtt"]![0]!;
        var group = template.Resource(balancerGroup)["Properties"]!;
        var ingress = Assert.Single(group["SecurityGroupIngress"]!.AsArray())!;
        var vpc = template.Resources("AWS::EC2::VPC").Single().Id;
        Assert.Equal(($$"""{"Fn::GetAtt":["{{vpc}}","CidrBlock"]}""", DashboardService.HttpsListenerPort),
            (ingress["CidrIp"]!.ToJsonString(), (int)ingress["FromPort"]!));
        var egress = Assert.Single(group["SecurityGroupEgress"]!.AsArray())!;
        Assert.Equal(("0.0.0.0/0", 443, 443), ((string)egress["CidrIp"]!, (int)egress["FromPort"]!, (int)egress["ToPort"]!));
        Assert.Equal($"https://{Domain}", (string)template.Json["Outputs"]!["DashboardUrl"]!["Value"]!);
    }
}
