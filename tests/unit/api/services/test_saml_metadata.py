"""SAML metadata checks that need no API: size limit and what is extracted."""

from __future__ import annotations

import pytest

from api.exceptions import SamlMetadataError
from api.services.saml_metadata import MAX_METADATA_BYTES, parse_idp_metadata
from tests.support.sso import saml_metadata


def test_a_valid_document_yields_entity_id_locations_and_certificates():
    metadata = parse_idp_metadata(saml_metadata(entity_id="urn:idp").encode())
    assert metadata.entity_id == "urn:idp"
    assert metadata.sso_locations == ("https://idp.test.example/sso",)
    assert metadata.signing_certificates == 1


def test_oversized_documents_are_refused_before_parsing():
    with pytest.raises(SamlMetadataError, match=str(MAX_METADATA_BYTES)):
        parse_idp_metadata(b" " * (MAX_METADATA_BYTES + 1))


def test_a_key_descriptor_without_use_counts_as_signing():
    document = saml_metadata().replace(' use="signing"', "")
    assert parse_idp_metadata(document.encode()).signing_certificates == 1
