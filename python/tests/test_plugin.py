"""What the plugin promises: fortisim's own words when it cannot start or refuses a call, a reset
before each test, rules that go with their `with` block, percent-encoded journal filters, the
clock, the listener, OTPs, hardware locks, and HTTPS that ignores the environment."""

import concurrent.futures
import os
import socket
import time

import pytest
import requests

from fortisim_pytest import PROCESS, FortisimError, FortisimStartError


def import_request(code="1234-5678-9ABC-DEF0-1234", serial="FGT60F0000000001"):
    """A FortiGate's licence import (docs/protocol.md §4.1)."""
    return {"d": {"__type": "SoftToken.ActivationLicenseRequest", "__version": "4",
                  "license_activation_code": code, "serial_number": serial,
                  "__device_version": "7.0", "__device_build": "5309",
                  "__clustered_sns": [{"sn": serial}]}}


def closed_port():
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- starting --------------------------------------------------------------------------------

def test_a_fortisim_that_cannot_start_raises_with_its_own_error(fortisim_factory, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"licenses": [{"activation_code": "DA8C-0508-1F31-4CF7-C990", "valid_until": "soon"}]}')
    with pytest.raises(FortisimStartError) as failed:
        fortisim_factory(bad)
    message = str(failed.value)
    assert "status 2" in message
    assert f"bad scenario {bad}: $.licenses[0].valid_until: expected a date" in message


def test_an_unknown_scenario_name_raises_with_its_own_error(fortisim_factory):
    with pytest.raises(FortisimStartError, match='no shipped scenario "no-such"'):
        fortisim_factory("no-such")


def test_without_a_binary_the_error_says_where_it_looked(pytester, monkeypatch):
    monkeypatch.delenv("FORTISIM_BIN", raising=False)
    monkeypatch.setenv("PATH", str(pytester.path))
    pytester.makepyfile("def test_it(fortisim):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fortisim: no binary: give --fortisim-bin PATH, set FORTISIM_BIN,*"])


def test_the_option_comes_before_the_environment(pytester):
    pytester.makepyfile("def test_it(fortisim):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--fortisim-bin", "/nonexistent/fortisim")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--fortisim-bin names /nonexistent/fortisim, which is not an executable*"])


def test_a_shipped_scenario_by_name_and_a_released_lock(fortisim_factory):
    server = fortisim_factory("lock-consumed")
    assert server.status()["scenario"] == "lock-consumed"
    assert server.ready["scenario"] == "lock-consumed"  # what it serves, not what it started with
    assert server.release("FTK2000000000001")["lock"] == "available"
    with pytest.raises(FortisimError, match="no hardware token FTK2009999999999"):
        server.release("FTK2009999999999")


# --- between tests ---------------------------------------------------------------------------

def test_each_test_gets_a_fortisim_reset(pytester):
    pytester.makepyfile('''
        from fortisim_pytest import PROCESS

        def licence_import(serial):
            return {"d": {"__type": "SoftToken.ActivationLicenseRequest", "__version": "4",
                          "license_activation_code": "1234-5678-9ABC-DEF0-1234",
                          "serial_number": serial}}

        seen = {}

        def test_first_changes_everything(fortisim):
            assert fortisim.post(PROCESS, licence_import("FGT60F0000000001")).json()["d"]["error"] is None
            fortisim.control("POST", "/rules", {"name": "left behind", "then": {"action": "reset"}})
            seen["clock_ms"] = fortisim.clock.advance(86400)["now_ms"]
            fortisim.listener.refuse()
            fortisim.switch_scenario("expired-license", reset=False)

        def test_second_sees_the_scenario_start(fortisim):
            assert fortisim.status()["scenario"] == "default"  # not the scenario the first switched to
            assert fortisim.journal() == []
            assert "left behind" not in [r["name"] for r in fortisim.rules()]
            assert fortisim.listener.listening
            assert fortisim.clock.get()["now_ms"] < seen["clock_ms"] - 80000 * 1000
            # the licence is no longer bound to the first device
            assert fortisim.post(PROCESS, licence_import("FGT60F0000000002")).json()["d"]["error"] is None
    ''')
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_a_killed_test_run_leaves_no_fortisim_running(pytester, tmp_path):
    """SIGKILL to pytest itself (a CI timeout): fortisim gets SIGTERM from its parent's death."""
    pid_file = tmp_path / "pid"
    pytester.makepyfile(f'''
        import os, signal

        def test_killed(fortisim):
            open({str(pid_file)!r}, "w").write(str(fortisim._process.pid))
            os.kill(os.getpid(), signal.SIGKILL)
    ''')
    pytester.runpytest_subprocess("-p", "no:cacheprovider")
    pid = int(pid_file.read_text())
    for _ in range(500):  # fortisim drains and exits; bounded at 5 s
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    pytest.fail(f"fortisim {pid} still runs after the test run that started it was killed")


def test_reset_of_one_item_and_its_refusal(fortisim):
    assert fortisim.reset() == {"reset": "everything"}
    fortisim.post(PROCESS, import_request(serial="FGT60F0000000001"))
    assert fortisim.reset(license="1234-5678-9ABC-DEF0-1234")["reset"] == "license"
    # the licence is free again: another device may import it
    assert fortisim.post(PROCESS, import_request(serial="FGT60F0000000002")).json()["d"]["error"] is None
    with pytest.raises(FortisimError) as refused:
        fortisim.reset(hardware="FTK2000000000077")
    assert refused.value.status == 404
    assert str(refused.value) == (
        "fortisim: POST /reset: no hardware FTK2000000000077 to reset (a serial, in upper case, as GET /world lists it)")


# --- rules -----------------------------------------------------------------------------------

def test_a_rule_lives_for_its_with_block(fortisim):
    name = "cut & retry #1 + more"  # '&', '#', '+' and spaces, in the query and in the path
    with fortisim.rule(name=name, times=1, when={"operation": "activation_license"},
                       then={"action": "reset"}) as added:
        assert added == name
        assert name in [r["name"] for r in fortisim.rules()]
        with pytest.raises(requests.ConnectionError):
            fortisim.post(PROCESS, import_request())
    assert name not in [r["name"] for r in fortisim.rules()]
    assert fortisim.post(PROCESS, import_request()).json()["d"]["error"] is None
    assert len(fortisim.journal(rule=name)) == 1
    assert fortisim.count(rule=name.replace("+", " ")) == 0


def test_a_bad_rule_raises_with_its_own_error(fortisim):
    with pytest.raises(FortisimError, match=r'\$\.then\.action: unknown action "explode"'):
        with fortisim.rule({"name": "typo", "then": {"action": "explode"}}):
            pass


def test_a_rule_a_reset_removed_is_left_be(fortisim):
    with fortisim.rule(name="gone early", then={"action": "reset"}):
        fortisim.reset()


# --- the journal -----------------------------------------------------------------------------

def test_journal_filters_are_percent_encoded(fortisim):
    serial = "FGT60F+0000001"  # a '+' sent as is would read as a space
    reply = fortisim.post(PROCESS, import_request(serial=serial))
    assert reply.status_code == 200
    assert fortisim.count(serial=serial) == 1
    # Decoded as a space, it is refused: an entry's serials are space-separated, so it never matches.
    with pytest.raises(FortisimError, match="serial: one serial, without spaces"):
        fortisim.count(serial="FGT60F 0000001")
    [entry] = fortisim.journal(serial=serial, operation="activation_license")
    assert entry["sni"] == "directregistration.fortinet.com"
    assert "Host: directregistration.fortinet.com" in entry["request_headers"]
    with pytest.raises(FortisimError, match="operation: expected activation_license"):
        fortisim.count(operation="activaton_license")


def test_wait_count_answers_once_reached_or_when_the_time_is_up(fortisim):
    fortisim.post(PROCESS, import_request(serial="FGT60F0000000007"))
    assert fortisim.wait_count(1, timeout_ms=5000, serial="FGT60F0000000007") == 1
    started = time.monotonic()
    assert fortisim.wait_count(1, timeout_ms=200, serial="FGT60F0000000099") == 0
    assert time.monotonic() - started >= 0.2


def test_wait_in_flight_answers_once_the_requests_are_in_flight_then_once_none_are(fortisim):
    slow = fortisim.rule(name="slow", when={"operation": "activation_license"},
                         then={"action": "delay", "ms": 1000})
    with slow, concurrent.futures.ThreadPoolExecutor(1) as pool:
        flying = pool.submit(fortisim.post, PROCESS, import_request(serial="FGT60F0000000008"))
        assert fortisim.wait_in_flight(1, timeout_ms=10000)["in_flight"] == 1
        assert fortisim.count(stage="http") == 0  # still in its delay
        assert fortisim.wait_in_flight(0, timeout_ms=10000)["in_flight"] == 0
        assert fortisim.count(stage="http") == 1  # its entry is in once it has ended
        assert flying.result(timeout=10).status_code == 200


# --- clock, listener, tokens -----------------------------------------------------------------

def test_the_clock(fortisim):
    assert fortisim.clock.set("2027-01-01T00:00:00Z")["now_s"] in range(1798761600, 1798761600 + 5)
    before = fortisim.clock.get()["now_ms"]
    after = fortisim.clock.advance(3600)["now_ms"]
    assert 3600_000 <= after - before < 3605_000
    assert fortisim.clock.advance(ms=-1000)["now_ms"] < after
    with pytest.raises(FortisimError, match="now"):
        fortisim.clock.set("next tuesday")


def test_the_listener_refuses_and_opens(fortisim):
    assert fortisim.listener.refuse() == {"listening": False, "for_ms": 0}
    assert not fortisim.listener.listening
    with pytest.raises(requests.ConnectionError):
        fortisim.post(PROCESS, import_request())
    assert fortisim.listener.open() == {"listening": True}
    assert fortisim.post(PROCESS, import_request()).status_code == 200
    fortisim.listener.refuse(for_ms=200)
    deadline = time.monotonic() + 5
    while not fortisim.listener.listening and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fortisim.listener.listening


def test_otp_of_a_provisioned_token(fortisim):
    token = fortisim.control("POST", "/tokens", {})["token"]
    otp = fortisim.otp(token)
    assert otp["token"] == token and len(otp["otp"]) == otp["digits"]
    assert fortisim.verify_otp(token, otp["otp"])
    with pytest.raises(FortisimError) as refused:
        fortisim.otp("FTKMOB0000000000")
    assert refused.value.status == 404


# --- the environment -------------------------------------------------------------------------

def test_proxies_and_ca_bundles_in_the_environment_change_nothing(fortisim, monkeypatch):
    proxy = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca-bundle.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/ca-bundle.pem")
    with fortisim.session() as session:
        assert session.post(fortisim.url + PROCESS, json=import_request(), timeout=10).status_code == 200
    assert fortisim.post(PROCESS, import_request()).status_code == 200
    assert fortisim.count() == 2


def test_an_admin_token_among_the_args_goes_with_every_control_call(fortisim_factory):
    server = fortisim_factory(args=("--admin-token", "s3cret-token"))
    server.reset()
    assert server.status()["scenario"] == "default"
    # Without it the control API refuses: the handle's calls pass because they carry it.
    with requests.Session() as bare:
        bare.trust_env = False
        assert bare.get(server.admin_url + "/status", timeout=10).status_code == 401
