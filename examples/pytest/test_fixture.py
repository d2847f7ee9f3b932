"""What the fixture promises the tests that use it: its queries are percent-encoded, a fortisim
that cannot start says why in its own words, and wait_count waits instead of polling."""

import time

import pytest
import requests

from test_licence_import import PROCESS, import_request


def test_journal_filters_are_percent_encoded(fortisim):
    name = "cut & count #1"  # '&' and '#' would end the value in a query built by hand
    fortisim.control("POST", "/rules", {"name": name, "times": 1,
                                        "when": {"operation": "activation_license"},
                                        "then": {"action": "reset"}})
    with pytest.raises(requests.exceptions.ConnectionError):
        fortisim.https(PROCESS, import_request("1234-5678-9ABC-DEF0-1234"))
    assert len(fortisim.journal(rule=name)) == 1


def test_a_fortisim_that_cannot_start_raises_with_its_own_error(fortisim_for, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"licenses": [{"activation_code": "DA8C-0508-1F31-4CF7-C990", "valid_until": "soon"}]}')
    with pytest.raises(RuntimeError) as failed:
        fortisim_for(bad)
    message = str(failed.value)
    assert "status 2" in message
    assert f"bad scenario {bad}: $.licenses[0].valid_until: expected a date" in message


def test_wait_count_answers_once_the_count_is_reached_or_the_time_is_up(fortisim):
    try:
        fortisim.wait_count(wait_ms=0)
    except requests.HTTPError as e:
        if e.response.status_code == 400 and "at_least" in e.response.text:
            pytest.skip("this fortisim's GET /journal/count takes no at_least and wait_ms yet")
        raise
    fortisim.https(PROCESS, import_request("1234-5678-9ABC-DEF0-1234", serial="FGT60F0000000007"))
    assert fortisim.wait_count(serial="FGT60F0000000007", at_least=1, wait_ms=5000) == 1
    started = time.monotonic()
    assert fortisim.wait_count(serial="FGT60F0000000099", at_least=1, wait_ms=200) == 0
    assert time.monotonic() - started >= 0.2
