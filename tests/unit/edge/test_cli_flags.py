from __future__ import annotations

import json
from pathlib import Path

import pytest

from saas_cli.main import main
from tests.support.tokens import AUDIENCE, ISSUER, SigningKey

PAYLOAD = {
    "features": {
        "new-billing": {"defaultValue": False, "rules": [{"condition": {"plan": "pro"}, "force": True}]},
        "checkout": {
            "defaultValue": "a",
            "rules": [
                {"key": "checkout-exp", "variations": ["a", "b"], "meta": [{"key": "ctl"}, {"key": "new"}]}
            ],
        },
    }
}


def test_flags_eval_from_edge_config(
    tmp_path: Path, signing_key: SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "keys": [signing_key.public_jwk]}],
                "flags": {"payload": PAYLOAD},
            }
        )
    )
    assert main(["flags", "eval", "--config", str(config), "--attr", "plan=pro", "--attr", "id=user-1"]) == 0
    out = capsys.readouterr().out
    assert "new-billing  true  [force]" in out
    flags_line = next(line for line in out.splitlines() if line.startswith("x-flags: "))
    flags = json.loads(flags_line.removeprefix("x-flags: "))
    assert flags["new-billing"] is True
    variation = "ctl" if flags["checkout"] == "a" else "new"
    assert f"x-experiments: checkout-exp:{variation}" in out


def test_flags_eval_json_from_payload(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps(PAYLOAD))
    assert (
        main(
            [
                "flags",
                "eval",
                "--payload",
                str(payload),
                "--feature",
                "new-billing",
                "--json",
                "--attr",
                "plan=free",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result == {
        "new-billing": {"value": False, "on": False, "off": True, "source": "defaultValue", "ruleId": ""}
    }


def test_flags_eval_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flags", "eval", "--config", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_bad_attribute_is_a_usage_error() -> None:
    with pytest.raises(SystemExit):
        main(["flags", "eval", "--attr", "novalue"])


def test_flags_eval_with_a_sticky_cookie(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps(PAYLOAD))
    command = ["flags", "eval", "--payload", str(payload), "--attr", "id=user-1"]
    assert main([*command, "--sticky-cookie", ""]) == 0
    out = capsys.readouterr().out
    cookie = next(line for line in out.splitlines() if line.startswith("sticky cookie: ")).split(": ")[1]
    exposure = next(line for line in out.splitlines() if line.startswith("x-experiments: ")).split(": ")[1]
    assert main([*command, "--sticky-cookie", cookie]) == 0
    again = capsys.readouterr().out
    assert "sticky cookie: (unchanged)" in again
    assert f"x-experiments: {exposure}" in again
    variation = {"checkout-exp:ctl": "ctl", "checkout-exp:new": "new"}[exposure]
    assert f'"assignments": {{"checkout-exp__0": "{variation}"}}' in again
