"""A project's licence import, tested against fortisim with the pytest plugin (`python/`): install
it and these tests need no conftest.py. Every assertion is on what fortisim saw.

    python3 -m pytest --fortisim-bin build/fortisim examples/pytest
"""

import pytest
import requests

from fortisim_pytest import PROCESS


def import_request(code, serial="FGT60F0000000001"):
    """What the project under test sends: a FortiGate's licence import (docs/protocol.md §4.1)."""
    return {"d": {"__type": "SoftToken.ActivationLicenseRequest", "__version": "4",
                  "license_activation_code": code, "serial_number": serial,
                  "__device_version": "7.0", "__device_build": "5309",
                  "__clustered_sns": [{"sn": serial}]}}


def test_an_import_is_journaled_with_its_serial(fortisim):
    reply = fortisim.post(PROCESS, import_request("1234-5678-9ABC-DEF0-1234", serial="FGT60F0000000001"))
    assert reply.status_code == 200
    assert reply.json()["d"]["error"] is None
    entries = fortisim.journal(operation="activation_license")
    assert len(entries) == 1
    assert "FGT60F0000000001" in entries[0]["serials"].split()
    assert entries[0]["code"] == "1234-5678-9ABC-DEF0-1234"
    assert fortisim.count(serial="FGT60F0000000001") == 1


def test_each_test_starts_from_a_clean_journal(fortisim):
    assert fortisim.journal() == []
    fortisim.post(PROCESS, import_request("1234-5678-9ABC-DEF0-1234"))
    assert fortisim.count() == 1


def test_a_runtime_rule_resets_the_next_import(fortisim):
    with fortisim.rule(name="cut the next import", times=1, when={"operation": "activation_license"},
                       then={"action": "reset"}):
        with pytest.raises(requests.ConnectionError):
            fortisim.post(PROCESS, import_request("1234-5678-9ABC-DEF0-1234"))
        assert fortisim.post(PROCESS, import_request("1234-5678-9ABC-DEF0-1234")).json()["d"]["error"] is None
    # the client saw the reset before fortisim journaled it: wait for the entry, do not poll
    assert fortisim.wait_count(1, timeout_ms=5000, rule="cut the next import") == 1


def test_an_expired_licence_gets_error_14(fortisim_factory, tmp_path):
    scenario = tmp_path / "expired.json"
    scenario.write_text('{"name": "expired", "licenses": [{"activation_code": "DA8C-0508-1F31-4CF7-C990", '
                        '"valid_until": "2020-01-01"}]}')
    server = fortisim_factory(scenario)
    error = server.post(PROCESS, import_request("DA8C-0508-1F31-4CF7-C990")).json()["d"]["error"]
    assert error == {"error_code": 14, "error_message": "forticare license expired"}
    assert server.count(error_code=14) == 1
    server.clock.set("2019-06-01T00:00:00Z")  # before it expired
    assert server.post(PROCESS, import_request("DA8C-0508-1F31-4CF7-C990")).json()["d"]["error"] is None


def test_a_shipped_scenario_by_name(fortisim_factory):
    server = fortisim_factory("expired-license")  # as GET /scenarios lists it
    reply = server.post(PROCESS, import_request("1234-5678-9ABC-DEF0-1234")).json()["d"]
    assert reply["error"]["error_code"] == 14
