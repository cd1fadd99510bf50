"""Per-tenant SSO in the service stack: the API may manage exactly the pool's identity providers and the
SSO secret prefix, the pool has the groups attribute and a hosted-UI domain, the API is configured."""

from __future__ import annotations

from typing import Any

from infra.components.sso import COGNITO_ACTIONS, SECRET_ACTIONS
from tests.infra.conftest import Assembly


def _api_statements(assembly: Assembly) -> list[dict[str, Any]]:
    policies = assembly.resources("service", "AWS::IAM::Policy")
    statements: list[dict[str, Any]] = []
    for logical_id, policy in policies.items():
        if logical_id.startswith("ApiHandlerFunction"):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    assert statements, "no policy of the API function found"
    return statements


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def test_the_api_manages_identity_providers_on_the_one_user_pool(assembly: Assembly) -> None:
    statements = _api_statements(assembly)
    cognito = [s for s in statements if any(a.startswith("cognito-idp:") for a in _actions(s))]
    assert len(cognito) == 1
    assert _actions(cognito[0]) == set(COGNITO_ACTIONS)
    (pool_id,) = assembly.resources("service", "AWS::Cognito::UserPool")
    assert cognito[0]["Resource"] == {"Fn::GetAtt": [pool_id, "Arn"]}


def test_the_api_writes_secrets_only_under_the_sso_prefix(assembly: Assembly) -> None:
    statements = _api_statements(assembly)
    writes = [s for s in statements if "secretsmanager:CreateSecret" in _actions(s)]
    assert len(writes) == 1
    assert _actions(writes[0]) == set(SECRET_ACTIONS)
    resource = writes[0]["Resource"]
    rendered = resource if isinstance(resource, str) else "".join(map(str, resource["Fn::Join"][1]))
    assert rendered.endswith(":secret:saas-dev/sso/*")


def test_user_pool_has_a_mutable_groups_attribute_and_a_domain(assembly: Assembly) -> None:
    (pool,) = assembly.resources("service", "AWS::Cognito::UserPool").values()
    schema = {attribute["Name"]: attribute for attribute in pool["Properties"]["Schema"]}
    assert schema["groups"]["Mutable"] is True
    assert schema["groups"]["AttributeDataType"] == "String"
    (domain,) = assembly.resources("service", "AWS::Cognito::UserPoolDomain").values()
    assert domain["Properties"]["Domain"]["Fn::Join"][1][0] == "saas-dev-"


def test_the_api_is_configured_for_sso(assembly: Assembly) -> None:
    functions = assembly.resources("service", "AWS::Lambda::Function")
    (api,) = [f for logical_id, f in functions.items() if logical_id.startswith("ApiHandlerFunction")]
    variables = api["Properties"]["Environment"]["Variables"]
    for name in ("SSO_USER_POOL_ID", "SSO_APP_CLIENT_ID", "SSO_HOSTED_UI_URL"):
        assert name in variables
    assert variables["SSO_SECRET_PREFIX"] == "saas-dev/sso"


def test_prod_sends_federated_users_back_to_the_app(prod_assembly: Assembly) -> None:
    (client,) = prod_assembly.resources("service", "AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["CallbackURLs"] == ["https://app.saas.example.com/auth/callback"]
    functions = prod_assembly.resources("service", "AWS::Lambda::Function")
    (api,) = [f for logical_id, f in functions.items() if logical_id.startswith("ApiHandlerFunction")]
    variables = api["Properties"]["Environment"]["Variables"]
    assert variables["SSO_REDIRECT_URI"] == "https://app.saas.example.com/auth/callback"
