"""Per-tenant SSO connections: each is one Cognito user-pool identity provider (SAML 2.0 or OIDC).

Order of work, so that nothing is left half-done: the input is validated first (SAML metadata parsed,
OIDC discovery fetched); then the row and its audit record are written (their statements run now, so a
constraint failure stops the request before Cognito is touched); then Cognito and Secrets Manager are
changed, each step registering its undo with the request's ``Compensations``. If any later step fails,
the route raises or the commit fails, the transaction rolls back and the undo steps run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from api.exceptions import (
    ConflictError,
    FieldValidationError,
    NotFoundError,
    OidcDiscoveryError,
    OutboundFetchError,
    SamlMetadataError,
)
from api.repositories import sso as repo
from api.schemas.sso import (
    OidcConnectionCreate,
    SamlConnectionCreate,
    SsoConnection,
    SsoConnectionUpdate,
)
from api.services import audit
from api.services.audit import AuditActor
from api.services.compensation import Compensations
from api.services.federation import CognitoFederation, ProviderSpec
from api.services.oidc_discovery import discover
from api.services.outbound_http import fetch
from api.services.saml_metadata import MAX_METADATA_BYTES, parse_idp_metadata
from api.settings import ApiSettings
from saascore.db.connection import Connection

MAX_CONNECTIONS_PER_TENANT = 5
# The user-pool attribute the IdP's groups land in (a custom attribute of the pool, see infra identity).
GROUPS_USER_POOL_ATTRIBUTE = "custom:groups"


def provider_name(tenant_id: uuid.UUID, connection_id: uuid.UUID) -> str:
    """Cognito's provider name: 1..32 characters, no spaces or leading underscore; unique per pool."""
    return f"sso-{tenant_id.hex[:12]}-{connection_id.hex[:12]}"


def _public(row: dict[str, Any]) -> SsoConnection:
    return SsoConnection.model_validate(
        {key: value for key, value in row.items() if key != "oidc_secret_arn"}
    )


def _audited(row: dict[str, Any]) -> dict[str, Any]:
    return _public(row).model_dump(mode="json")


def _attribute_mapping(email_attribute: str, groups_attribute: str | None, protocol: str) -> dict[str, str]:
    mapping = {"email": email_attribute}
    if protocol == "oidc":
        mapping["username"] = "sub"
        mapping["email_verified"] = "email_verified"
    if groups_attribute:
        mapping[GROUPS_USER_POOL_ATTRIBUTE] = groups_attribute
    return mapping


def _saml_metadata(
    settings: ApiSettings, *, url: str | None, xml: str | None, pointer: str
) -> tuple[str, dict[str, str]]:
    """(entity id, Cognito ProviderDetails) from checked metadata, or a 422 pointing at the field."""
    try:
        if url is not None:
            document = fetch(
                url,
                timeout=settings.sso_fetch_timeout_seconds,
                max_bytes=MAX_METADATA_BYTES,
                accept="application/samlmetadata+xml, application/xml, text/xml",
                allow_loopback=settings.sso_allow_loopback_fetch,
            )
        else:
            assert xml is not None
            document = xml.encode()
        metadata = parse_idp_metadata(document)
    except OutboundFetchError as exc:
        raise FieldValidationError(f"the metadata could not be fetched: {exc}", pointer=pointer) from exc
    except SamlMetadataError as exc:
        raise FieldValidationError(str(exc), pointer=pointer) from exc
    details = {"MetadataURL": url} if url is not None else {"MetadataFile": document.decode()}
    return metadata.entity_id, {**details, "IDPSignout": "false"}


def _oidc_details(*, issuer: str, client_id: str, client_secret: str, scopes: str) -> dict[str, str]:
    return {
        "client_id": client_id,
        "client_secret": client_secret,
        "authorize_scopes": scopes,
        "oidc_issuer": issuer,
        "attributes_request_method": "GET",
    }


def _spec(row: dict[str, Any], details: dict[str, str]) -> ProviderSpec:
    return ProviderSpec(
        name=row["provider_name"],
        provider_type="SAML" if row["protocol"] == "saml" else "OIDC",
        details=details,
        attribute_mapping=_attribute_mapping(
            row["email_attribute"], row["groups_attribute"], row["protocol"]
        ),
    )


def list_connections(conn: Connection) -> list[SsoConnection]:
    return [_public(row) for row in repo.list_all(conn)]


def _row(conn: Connection, connection_id: uuid.UUID, *, for_update: bool = False) -> dict[str, Any]:
    row = repo.get(conn, connection_id=connection_id, for_update=for_update)
    if row is None:
        raise NotFoundError(f"SSO connection {connection_id} not found")
    return row


def get_connection(conn: Connection, connection_id: uuid.UUID) -> SsoConnection:
    return _public(_row(conn, connection_id))


def create_connection(
    conn: Connection,
    actor: AuditActor,
    body: SamlConnectionCreate | OidcConnectionCreate,
    *,
    settings: ApiSettings,
    federation: Callable[[], CognitoFederation],
    undo: Compensations,
) -> SsoConnection:
    if repo.count(conn) >= MAX_CONNECTIONS_PER_TENANT:
        raise ConflictError(f"a tenant may have at most {MAX_CONNECTIONS_PER_TENANT} SSO connections")
    connection_id = uuid.uuid4()
    name = provider_name(actor.tenant_id, connection_id)
    values: dict[str, Any] = {
        "id": connection_id,
        "protocol": body.protocol,
        "provider_name": name,
        "display_name": body.display_name,
        "email_attribute": body.email_attribute,
        "groups_attribute": body.groups_attribute,
    }
    secret: str | None = None
    if isinstance(body, SamlConnectionCreate):
        pointer = "#/metadata_url" if body.metadata_url is not None else "#/metadata_xml"
        entity_id, details = _saml_metadata(
            settings, url=body.metadata_url, xml=body.metadata_xml, pointer=pointer
        )
        values |= {"saml_metadata_url": body.metadata_url, "saml_entity_id": entity_id}
    else:
        try:
            discover(
                body.issuer,
                timeout=settings.sso_fetch_timeout_seconds,
                allow_loopback=settings.sso_allow_loopback_fetch,
            )
        except OidcDiscoveryError as exc:
            raise FieldValidationError(str(exc), pointer="#/issuer") from exc
        secret = body.client_secret.get_secret_value()
        details = _oidc_details(
            issuer=body.issuer, client_id=body.client_id, client_secret=secret, scopes=body.scopes
        )
        values |= {"oidc_issuer": body.issuer, "oidc_client_id": body.client_id, "oidc_scopes": body.scopes}
    row = repo.insert(conn, tenant_id=actor.tenant_id, values=values)
    cognito = federation()
    repo.lock_app_client(conn)
    if secret is not None:
        arn = cognito.create_secret(name, secret)
        undo.add(f"delete secret of {name}", lambda: cognito.delete_secret(arn))
        row = repo.update(conn, connection_id=connection_id, changes={"oidc_secret_arn": arn})
    cognito.create_provider(_spec(row, details))
    undo.add(f"delete provider {name}", lambda: cognito.delete_provider(name))
    cognito.enable_on_client(name)
    undo.add(f"remove {name} from the app client", lambda: cognito.disable_on_client(name))
    audit.record(
        conn,
        actor,
        action="sso_connection.created",
        resource_type="sso_connection",
        resource_id=connection_id,
        after=_audited(row),
    )
    return _public(row)


def _check_fields_fit(row: dict[str, Any], body: SsoConnectionUpdate) -> None:
    saml_only = {"metadata_url", "metadata_xml"}
    oidc_only = {"client_id", "client_secret", "scopes"}
    wrong = body.model_fields_set & (oidc_only if row["protocol"] == "saml" else saml_only)
    if wrong:
        field = sorted(wrong)[0]
        raise FieldValidationError(
            f"{field} does not apply to a {row['protocol']} connection", pointer=f"#/{field}"
        )


def update_connection(
    conn: Connection,
    actor: AuditActor,
    connection_id: uuid.UUID,
    body: SsoConnectionUpdate,
    *,
    settings: ApiSettings,
    federation: Callable[[], CognitoFederation],
    undo: Compensations,
) -> SsoConnection:
    row = _row(conn, connection_id, for_update=True)
    _check_fields_fit(row, body)
    changes: dict[str, Any] = {
        field: getattr(body, field)
        for field in ("display_name", "email_attribute", "groups_attribute")
        if field in body.model_fields_set
    }
    new_metadata: dict[str, str] | None = None
    if body.metadata_url is not None or body.metadata_xml is not None:
        pointer = "#/metadata_url" if body.metadata_url is not None else "#/metadata_xml"
        entity_id, new_metadata = _saml_metadata(
            settings, url=body.metadata_url, xml=body.metadata_xml, pointer=pointer
        )
        changes |= {"saml_metadata_url": body.metadata_url, "saml_entity_id": entity_id}
    if body.client_id is not None:
        changes["oidc_client_id"] = body.client_id
    if body.scopes is not None:
        changes["oidc_scopes"] = body.scopes
    updated = repo.update(conn, connection_id=connection_id, changes=changes) if changes else row
    cognito = federation()
    current = cognito.describe_provider(row["provider_name"])
    if current is None:
        raise ConflictError(
            "the connection's identity provider is missing in Cognito; delete and register it again"
        )
    details = dict(current.details)
    if row["protocol"] == "saml":
        if new_metadata is not None:
            details = {
                key: value for key, value in details.items() if key not in ("MetadataURL", "MetadataFile")
            }
            details |= new_metadata
    else:
        secret = body.client_secret.get_secret_value() if body.client_secret is not None else None
        if secret is not None:
            arn = row["oidc_secret_arn"]
            previous = cognito.read_secret(arn)
            cognito.put_secret(arn, secret)
            undo.add(f"restore secret of {row['provider_name']}", lambda: cognito.put_secret(arn, previous))
        else:
            secret = cognito.read_secret(row["oidc_secret_arn"])
        details = _oidc_details(
            issuer=updated["oidc_issuer"],
            client_id=updated["oidc_client_id"],
            client_secret=secret,
            scopes=updated["oidc_scopes"],
        )
    cognito.update_provider(_spec(updated, details))
    undo.add(f"restore provider {row['provider_name']}", lambda: cognito.update_provider(current))
    audit.record(
        conn,
        actor,
        action="sso_connection.updated",
        resource_type="sso_connection",
        resource_id=connection_id,
        before=_audited(row),
        after=_audited(updated),
    )
    return _public(updated)


def delete_connection(
    conn: Connection,
    actor: AuditActor,
    connection_id: uuid.UUID,
    *,
    federation: Callable[[], CognitoFederation],
    undo: Compensations,
) -> None:
    row = _row(conn, connection_id, for_update=True)
    repo.delete(conn, connection_id=connection_id)
    audit.record(
        conn,
        actor,
        action="sso_connection.deleted",
        resource_type="sso_connection",
        resource_id=connection_id,
        before=_audited(row),
    )
    name = row["provider_name"]
    cognito = federation()
    repo.lock_app_client(conn)
    current = cognito.describe_provider(name)
    if name in cognito.client_providers():
        cognito.disable_on_client(name)
        undo.add(f"add {name} back to the app client", lambda: cognito.enable_on_client(name))
    if current is not None and cognito.delete_provider(name):
        undo.add(f"recreate provider {name}", lambda: cognito.create_provider(current))
    arn = row["oidc_secret_arn"]
    if arn:
        cognito.delete_secret(arn)
        undo.add(f"restore secret of {name}", lambda: cognito.restore_secret(arn))
