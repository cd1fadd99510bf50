"""The SCIM resource schemas this server implements (RFC 7643 §4, §8.7) as data, and what follows from them:
the discovery documents, input validation into the stored form, and attribute projection.

One description drives everything, so ``/Schemas`` never promises an attribute the server drops. Attribute
names are case-insensitive on input (RFC 7643 §2.1) and stored in their canonical spelling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from api.exceptions import ScimError

# Where the SCIM service is served; every error below it is a SCIM Error document (api.problems).
SCIM_PATH_PREFIX = "/scim/v2"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"

MAX_STRING_CHARS = 1024
MAX_VALUES = 100  # per multi-valued attribute (group members: MAX_MEMBERS)
MAX_MEMBERS = 1000


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str = "string"  # string | boolean | complex | reference | dateTime | integer
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    description: str = ""
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()

    def sub(self, name: str) -> Attribute | None:
        lowered = name.lower()
        return next((a for a in self.sub_attributes if a.name.lower() == lowered), None)

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description or self.name,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        }
        if self.sub_attributes:
            doc["subAttributes"] = [a.document() for a in self.sub_attributes]
        if self.canonical_values:
            doc["canonicalValues"] = list(self.canonical_values)
        if self.reference_types:
            doc["referenceTypes"] = list(self.reference_types)
        return doc


@dataclass(frozen=True)
class Schema:
    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute | None:
        lowered = name.lower()
        return next((a for a in self.attributes if a.name.lower() == lowered), None)

    def document(self, base_url: str) -> dict[str, Any]:
        return {
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [a.document() for a in self.attributes],
            "meta": {"resourceType": "Schema", "location": f"{base_url}/Schemas/{self.id}"},
        }


def _multi(name: str, *subs: Attribute, types: tuple[str, ...] = ("work", "home", "other")) -> Attribute:
    return Attribute(
        name,
        "complex",
        multi_valued=True,
        sub_attributes=(
            *subs,
            Attribute("display"),
            Attribute("type", canonical_values=types),
            Attribute("primary", "boolean"),
        ),
    )


USER = Schema(
    USER_SCHEMA,
    "User",
    "User Account",
    (
        Attribute(
            "userName", required=True, uniqueness="server", description="Unique identifier for the User"
        ),
        Attribute(
            "name",
            "complex",
            sub_attributes=tuple(
                Attribute(n)
                for n in (
                    "formatted",
                    "familyName",
                    "givenName",
                    "middleName",
                    "honorificPrefix",
                    "honorificSuffix",
                )
            ),
        ),
        Attribute("displayName"),
        Attribute("nickName"),
        Attribute("profileUrl", "reference", reference_types=("external",)),
        Attribute("title"),
        Attribute("userType"),
        Attribute("preferredLanguage"),
        Attribute("locale"),
        Attribute("timezone"),
        Attribute("active", "boolean"),
        _multi("emails", Attribute("value")),
        _multi("phoneNumbers", Attribute("value"), types=("work", "home", "mobile", "fax", "pager", "other")),
        Attribute(
            "addresses",
            "complex",
            multi_valued=True,
            sub_attributes=(
                *(
                    Attribute(n)
                    for n in ("formatted", "streetAddress", "locality", "region", "postalCode", "country")
                ),
                Attribute("type", canonical_values=("work", "home", "other")),
                Attribute("primary", "boolean"),
            ),
        ),
        Attribute(
            "groups",
            "complex",
            multi_valued=True,
            mutability="readOnly",
            sub_attributes=(
                Attribute("value", mutability="readOnly"),
                Attribute("$ref", "reference", mutability="readOnly", reference_types=("Group",)),
                Attribute("display", mutability="readOnly"),
                Attribute("type", mutability="readOnly", canonical_values=("direct",)),
            ),
        ),
    ),
)

ENTERPRISE_USER = Schema(
    ENTERPRISE_SCHEMA,
    "EnterpriseUser",
    "Enterprise User",
    (
        Attribute("employeeNumber"),
        Attribute("costCenter"),
        Attribute("organization"),
        Attribute("division"),
        Attribute("department"),
        Attribute(
            "manager",
            "complex",
            sub_attributes=(
                Attribute("value"),
                Attribute("$ref", "reference", reference_types=("User",)),
                Attribute("displayName", mutability="readOnly"),
            ),
        ),
    ),
)

GROUP = Schema(
    GROUP_SCHEMA,
    "Group",
    "Group",
    (
        Attribute(
            "displayName",
            required=True,
            uniqueness="server",
            description="A human-readable name for the Group",
        ),
        Attribute(
            "members",
            "complex",
            multi_valued=True,
            sub_attributes=(
                Attribute("value", mutability="immutable"),
                Attribute("$ref", "reference", mutability="immutable", reference_types=("User",)),
                Attribute("display", mutability="readOnly"),
                Attribute("type", mutability="immutable", canonical_values=("User",)),
            ),
        ),
    ),
)

# Attributes every resource has (RFC 7643 §3.1); only externalId is the client's to write.
COMMON_WRITABLE = Attribute("externalId", case_exact=True)


@dataclass(frozen=True)
class ResourceType:
    name: str
    endpoint: str
    schema: Schema
    extensions: tuple[Schema, ...] = field(default=())

    def schema_for(self, urn: str) -> Schema | None:
        lowered = urn.lower()
        return next((s for s in (self.schema, *self.extensions) if s.id.lower() == lowered), None)

    def document(self, base_url: str) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.schema.description,
            "schema": self.schema.id,
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/{self.name}"},
        }
        if self.extensions:
            doc["schemaExtensions"] = [{"schema": s.id, "required": False} for s in self.extensions]
        return doc


USERS = ResourceType("User", "/Users", USER, (ENTERPRISE_USER,))
GROUPS = ResourceType("Group", "/Groups", GROUP)
RESOURCE_TYPES = (USERS, GROUPS)
SCHEMAS = (USER, ENTERPRISE_USER, GROUP)


def service_provider_config(base_url: str, *, max_payload_bytes: int, max_results: int) -> dict[str, Any]:
    return {
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://www.rfc-editor.org/rfc/rfc7644",
        "patch": {"supported": True},
        # RFC 7643 §5 has maxPayloadSize only here; the same limit applies to every request (413 above it).
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": max_payload_bytes},
        "filter": {"supported": True, "maxResults": max_results},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A per-tenant SCIM token issued at /api/v1/scim-tokens",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base_url}/ServiceProviderConfig"},
    }


def invalid(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(detail, status=400, scim_type=scim_type)


_TRUE_FALSE = {"true": True, "false": False}


def _boolean(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    # Entra ID sends "True"/"False" strings for booleans (e.g. active).
    if isinstance(value, str) and value.lower() in _TRUE_FALSE:
        return _TRUE_FALSE[value.lower()]
    raise invalid(f"{where} must be a boolean")


def _complex(attribute: Attribute, value: Any, where: str) -> dict[str, Any] | None:
    if isinstance(value, str) and attribute.sub("value") is not None:
        value = {"value": value}  # Entra ID sends a manager as a bare id string
    if not isinstance(value, Mapping):
        raise invalid(f"{where} must be an object")
    out: dict[str, Any] = {}
    for name, item in value.items():
        sub = attribute.sub(str(name))
        if sub is None:
            raise invalid(f"{where}.{name} is not an attribute of {attribute.name}", "invalidSyntax")
        coerced = None if sub.mutability == "readOnly" else coerce(sub, item, f"{where}.{sub.name}")
        if coerced is not None:
            out[sub.name] = coerced
    return out or None


def _string(attribute: Attribute, value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise invalid(f"{where} must be a string")
    if "\x00" in value:
        raise invalid(f"{where} must not contain U+0000")
    if len(value) > MAX_STRING_CHARS:
        raise invalid(f"{where} is longer than {MAX_STRING_CHARS} characters")
    if attribute.type == "dateTime":
        try:
            datetime.fromisoformat(value)
        except ValueError as exc:
            raise invalid(f"{where} must be an xsd:dateTime") from exc
    return value


def coerce(attribute: Attribute, value: Any, where: str) -> Any:
    """One value of ``attribute`` in its stored form; refuses what the type does not allow."""
    if value is None:
        return None
    if attribute.type == "boolean":
        return _boolean(value, where)
    if attribute.type == "complex":
        return _complex(attribute, value, where)
    if attribute.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"{where} must be an integer")
        return value
    return _string(attribute, value, where)


def coerce_attribute(attribute: Attribute, value: Any, where: str) -> Any:
    """A whole attribute's value (a list for multi-valued ones), with at most one ``primary``."""
    if not attribute.multi_valued:
        if isinstance(value, list):
            raise invalid(f"{where} is single-valued")
        return coerce(attribute, value, where)
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    limit = MAX_MEMBERS if attribute.name == "members" else MAX_VALUES
    if len(items) > limit:
        raise invalid(f"{where} holds at most {limit} values", "tooMany")
    values = [
        v for v in (coerce(attribute, item, f"{where}[{n}]") for n, item in enumerate(items)) if v is not None
    ]
    primaries = [v for v in values if isinstance(v, dict) and v.get("primary") is True]
    for extra in primaries[:-1]:
        extra["primary"] = False  # RFC 7643 §2.4: the last one marked primary wins
    return values or None


def _extension_part(extension: Schema, name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise invalid(f"{name} must be an object")
    part = {}
    for sub_name, sub_value in value.items():
        attribute = extension.attribute(str(sub_name))
        if attribute is None:
            raise invalid(f"{sub_name} is not an attribute of {extension.id}", "invalidSyntax")
        coerced = coerce_attribute(attribute, sub_value, str(sub_name))
        if coerced is not None and attribute.mutability != "readOnly":
            part[attribute.name] = coerced
    return part


def parse_resource(resource_type: ResourceType, body: Any) -> dict[str, Any]:
    """A POST/PUT body as the stored attribute document: ``{attr: value, ..., urn: {attr: value}}``.

    Read-only attributes (id, meta, groups) are ignored as RFC 7644 §3.3 and §3.5.1 say; an attribute the
    schemas do not define is refused (invalidSyntax), so nothing a client sends is silently lost.
    """
    if not isinstance(body, Mapping):
        raise invalid("the body must be a JSON object", "invalidSyntax")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or resource_type.schema.id not in schemas:
        raise invalid(f"schemas must list {resource_type.schema.id}", "invalidSyntax")
    stored: dict[str, Any] = {}
    for key, value in body.items():
        name = str(key)
        extension = resource_type.schema_for(name)
        attribute = COMMON_WRITABLE if name.lower() == "externalid" else resource_type.schema.attribute(name)
        if name.lower() in ("schemas", "id", "meta"):
            continue
        if extension is not None and extension is not resource_type.schema:
            part = _extension_part(extension, name, value)
            if part:
                stored[extension.id] = part
            continue
        if attribute is None:
            raise invalid(f"{name} is not an attribute of {resource_type.name}", "invalidSyntax")
        coerced = (
            None if attribute.mutability == "readOnly" else coerce_attribute(attribute, value, attribute.name)
        )
        if coerced is not None:
            stored[attribute.name] = coerced
    check_required(resource_type, stored)
    return stored


def check_required(resource_type: ResourceType, stored: Mapping[str, Any]) -> None:
    for attribute in resource_type.schema.attributes:
        if attribute.required and not stored.get(attribute.name):
            raise invalid(f"{attribute.name} is required")


def _split(names: str | None) -> list[str]:
    return [n.strip() for n in (names or "").split(",") if n.strip()]


def _selection(resource_type: ResourceType, paths: list[str]) -> dict[str, set[str] | None]:
    """Lower-case top-level key -> the sub-attributes named (None: the whole attribute)."""
    chosen: dict[str, set[str] | None] = {}
    core = resource_type.schema.id.lower() + ":"
    extensions = {s.id.lower(): s.id for s in resource_type.extensions}
    for path in paths:
        lowered = path.lower()
        if lowered in extensions:
            chosen[lowered] = None
            continue
        urn = next((u for u in extensions if lowered.startswith(u + ":")), None)
        if urn is not None:
            key, sub = urn, lowered[len(urn) + 1 :].split(".")[0]
        else:
            key, _, sub = lowered.removeprefix(core).partition(".")
        if not sub:
            chosen[key] = None
        elif key not in chosen or chosen[key] is not None:
            chosen[key] = {*(chosen.get(key) or set()), sub}
    return chosen


ALWAYS_RETURNED = frozenset({"id", "schemas", "meta"})
_ABSENT: set[str] = {"\x00absent"}


def project(
    resource_type: ResourceType, document: dict[str, Any], *, attributes: str | None, excluded: str | None
) -> dict[str, Any]:
    """RFC 7644 §3.4.2.5: ``attributes`` keeps only the named ones (plus id, schemas, meta);
    ``excludedAttributes`` drops the named ones; names are matched without case."""
    wanted, unwanted = _split(attributes), _split(excluded)
    if not wanted and not unwanted:
        return document
    out: dict[str, Any] = {}
    selection = _selection(resource_type, wanted or unwanted)
    for key, value in document.items():
        lowered = key.lower()
        subs = selection.get(lowered, _ABSENT)
        if lowered in ALWAYS_RETURNED:
            out[key] = value
        elif wanted and subs is not _ABSENT:
            out[key] = value if subs is None else _keep(value, subs)
        elif not wanted and subs is _ABSENT:
            out[key] = value
        elif not wanted and subs is not None:
            out[key] = _drop(value, subs)
    return {k: v for k, v in out.items() if v not in (None, {}, [])}


def _keep(value: Any, subs: set[str]) -> Any:
    if isinstance(value, list):
        return [_keep(v, subs) for v in value]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() in subs}
    return value


def _drop(value: Any, subs: set[str]) -> Any:
    if isinstance(value, list):
        return [_drop(v, subs) for v in value]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() not in subs}
    return value
