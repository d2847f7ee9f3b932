"""A project's licence import, tested against fortisim: every assertion is on what fortisim saw."""

import socket

import pytest
import requests

PROCESS = "/SoftToken/Provisioning.asmx/Process"


def import_request(code, serial="FGT60F0000000001"):
    """What the project under test sends: a FortiGate's licence import (docs/protocol.md §4.1)."""
    return {"d": {"__type": "SoftToken.ActivationLicenseRequest", "__version": "4",
                  "license_activation_code": code, "serial_number": serial,
                  "__device_version": "7.0", "__device_build": "5309",
                  "__clustered_sns": [{"sn": serial}]}}


def closed_port():
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_import_is_journaled_with_its_serial(fortisim):
    reply = fortisim.https(PROCESS, import_request("1234-5678-9ABC-DEF0-1234", serial="FGT60F0000000001"))
    assert reply.status_code == 200
    assert reply.json()["d"]["error"] is None
    entries = fortisim.journal(operation="activation_license")
    assert len(entries) == 1
    assert "FGT60F0000000001" in entries[0]["serials"].split()
    assert fortisim.control("GET", "/journal/count?serial=FGT60F0000000001") == {"count": 1}
    assert entries[0]["code"] == "1234-5678-9ABC-DEF0-1234"


def test_each_test_starts_from_a_clean_journal(fortisim):
    assert fortisim.journal() == []
    fortisim.https(PROCESS, import_request("1234-5678-9ABC-DEF0-1234"))
    assert len(fortisim.journal()) == 1


def test_a_runtime_rule_resets_the_next_import(fortisim):
    fortisim.control("POST", "/rules", {"name": "cut the next import", "times": 1,
                                        "when": {"operation": "activation_license"},
                                        "then": {"action": "reset"}})
    with pytest.raises(requests.exceptions.ConnectionError):
        fortisim.https(PROCESS, import_request("1234-5678-9ABC-DEF0-1234"))
    assert fortisim.https(PROCESS, import_request("1234-5678-9ABC-DEF0-1234")).json()["d"]["error"] is None
    fired = fortisim.journal(rule="cut the next import")
    assert len(fired) == 1
    assert fired[0]["action"] == "reset"


def test_an_expired_licence_gets_error_14(fortisim_for, tmp_path):
    scenario = tmp_path / "expired.json"
    scenario.write_text('{"name": "expired", "licenses": [{"activation_code": "DA8C-0508-1F31-4CF7-C990", '
                        '"valid_until": "2020-01-01"}]}')
    server = fortisim_for(scenario)
    error = server.https(PROCESS, import_request("DA8C-0508-1F31-4CF7-C990")).json()["d"]["error"]
    assert error == {"error_code": 14, "error_message": "forticare license expired"}
    assert len(server.journal(error_code=14)) == 1


def test_ca_bundles_and_proxies_in_the_environment_change_nothing(fortisim, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca-bundle.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/ca-bundle.pem")
    proxy = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    assert fortisim.https(PROCESS, import_request("1234-5678-9ABC-DEF0-1234")).status_code == 200
    assert len(fortisim.journal()) == 1
