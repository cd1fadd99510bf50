"""SAML 2.0 IdP metadata, checked before Cognito sees it (SAML 2.0 Metadata, OASIS saml-metadata-2.0-os).

The document comes from a tenant, so it is parsed with defusedxml: no DTDs, no entity expansion (billion
laughs), no external entities or network access. What Cognito needs must be there: one EntityDescriptor
with an entityID, an IDPSSODescriptor supporting the SAML 2.0 protocol, a SingleSignOnService over the
HTTP-Redirect or HTTP-POST binding at an https location, and a signing certificate (a KeyDescriptor with
use="signing" or no use, holding a DER X.509 certificate).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError  # types only: parsing goes through defusedxml

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from api.exceptions import SamlMetadataError

# Cognito accepts a MetadataFile of at most 131,072 characters.
MAX_METADATA_BYTES = 131_072

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
SSO_BINDINGS = frozenset(
    {
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
    }
)


@dataclass(frozen=True, slots=True)
class IdpMetadata:
    entity_id: str
    sso_locations: tuple[str, ...]
    signing_certificates: int


def _is_der_certificate(text: str) -> bool:
    """Base64 of one DER SEQUENCE whose encoded length is the whole value (a certificate's outer shape)."""
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(der) < 64 or der[0] != 0x30:
        return False
    first = der[1]
    if first < 0x80:
        return 2 + first == len(der)
    count = first & 0x7F
    if not 1 <= count <= 4 or len(der) < 2 + count:
        return False
    return 2 + count + int.from_bytes(der[2 : 2 + count], "big") == len(der)


def _signing_certificates(idp: Element) -> int:
    found = 0
    for key in idp.findall(f"{{{MD}}}KeyDescriptor"):
        if key.get("use", "signing") != "signing":
            continue
        for cert in key.iterfind(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate"):
            if not _is_der_certificate(cert.text or ""):
                raise SamlMetadataError("an X509Certificate of the IdP is not a base64 DER certificate")
            found += 1
    return found


def parse_idp_metadata(document: bytes) -> IdpMetadata:
    if len(document) > MAX_METADATA_BYTES:
        raise SamlMetadataError(f"the metadata is larger than {MAX_METADATA_BYTES} bytes")
    try:
        root = fromstring(document, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SamlMetadataError("the metadata uses a DTD or entities, which are not accepted") from exc
    except (ParseError, ValueError) as exc:
        raise SamlMetadataError("the metadata is not well-formed XML") from exc
    if root.tag != f"{{{MD}}}EntityDescriptor":
        raise SamlMetadataError("the metadata's root must be one md:EntityDescriptor")
    entity_id = (root.get("entityID") or "").strip()
    if not entity_id or len(entity_id) > 1024:
        raise SamlMetadataError("the EntityDescriptor needs an entityID of at most 1024 characters")
    idps = [
        idp
        for idp in root.findall(f"{{{MD}}}IDPSSODescriptor")
        if SAML2_PROTOCOL in (idp.get("protocolSupportEnumeration") or "").split()
    ]
    if not idps:
        raise SamlMetadataError("the metadata has no IDPSSODescriptor for the SAML 2.0 protocol")
    locations: list[str] = []
    certificates = 0
    for idp in idps:
        for service in idp.findall(f"{{{MD}}}SingleSignOnService"):
            location = (service.get("Location") or "").strip()
            if service.get("Binding") in SSO_BINDINGS and urlsplit(location).scheme == "https":
                locations.append(location)
        certificates += _signing_certificates(idp)
    if not locations:
        raise SamlMetadataError(
            "the IDPSSODescriptor has no SingleSignOnService with an HTTP-Redirect or HTTP-POST binding "
            "at an https Location"
        )
    if not certificates:
        raise SamlMetadataError("the IDPSSODescriptor has no signing certificate (KeyDescriptor)")
    return IdpMetadata(entity_id, tuple(locations), certificates)
