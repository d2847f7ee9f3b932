"""A fortisim process and the calls a test makes on it.

`start()` runs `fortisim serve` on 127.0.0.1:0 (HTTPS and control API both on free ports, a data
folder of its own for the lab CA) and waits, at most `timeout_s`, for its ready file; `Fortisim`
is the handle it returns. Every HTTP call this module makes ignores the environment
(`trust_env = False`): otherwise `REQUESTS_CA_BUNDLE` or `CURL_CA_BUNDLE` silently override
`verify=`, and `HTTPS_PROXY`/`HTTP_PROXY` catch loopback calls.
"""

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse

import requests
from requests.adapters import HTTPAdapter

#: The FortiGate's endpoint (licence import, provisioning, polling, hardware activation).
PROCESS = "/SoftToken/Provisioning.asmx/Process"
#: The phone's endpoint (FortiToken Mobile trades its activation code for the seed).
MOBILE = "/SoftToken/Provisioning.asmx/Mobile"
#: The name a FortiGate sends as SNI and Host on the token path.
FORTICARE_HOST = "directregistration.fortinet.com"

#: How long a control call may take (a `wait_count` adds its own wait).
CALL_TIMEOUT_S = 10.0


class FortisimError(RuntimeError):
    """A control call fortisim refused, or a fortisim that stopped: the message is fortisim's
    own (`error` of the control API's JSON answer, or its last words on stderr)."""

    def __init__(self, message, status=None, error=None):
        super().__init__(message)
        self.status = status  #: the HTTP status of a refused control call, else None
        self.error = error  #: fortisim's own words, without the call they answer


class FortisimStartError(FortisimError):
    """fortisim did not become ready: the message carries its own start-up error."""


def _quiet_session():
    """A requests session that ignores the environment's proxies and CA bundles."""
    session = requests.Session()
    session.trust_env = False
    return session


class _ServerNameAdapter(HTTPAdapter):
    """Connects where the URL says (127.0.0.1) but sends `server_name` as TLS SNI and checks the
    certificate against that name, as a client that resolved the name to fortisim would."""

    def __init__(self, server_name, **kwargs):
        self._server_name = server_name
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["server_hostname"] = self._server_name
        super().init_poolmanager(*args, **kwargs)


def last_words(log_path, lines=5):
    """fortisim's last lines on stderr (its log at `log_path`), the error of a start-up failure
    (`{"event": "failed", "error": …}`) given as its text."""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as log:
            tail = log.read().splitlines()[-lines:]
    except OSError as e:
        return f"(its log {log_path} could not be read: {e})"
    said = []
    for line in tail:
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        failed = isinstance(event, dict) and event.get("event") == "failed"
        said.append(str(event.get("error", line)) if failed else line)
    return "\n".join(said) or "(nothing on stderr)"


class Clock:
    """The virtual clock: `GET /clock` and `POST /clock`. Each call answers the clock after it,
    `{"now_ms": …, "now_s": …, "rate": …}`."""

    def __init__(self, fortisim):
        self._fortisim = fortisim

    def get(self):
        return self._fortisim.control("GET", "/clock")

    def set(self, now):
        """`now`: `"2027-01-01T00:00:00Z"` or Unix seconds."""
        return self._fortisim.control("POST", "/clock", {"now": now})

    def advance(self, seconds=None, *, ms=None):
        """Moves the clock by `seconds` or by `ms` milliseconds (either may be negative)."""
        if (seconds is None) == (ms is None):
            raise TypeError("clock.advance: give seconds or ms, one of them")
        body = {"advance_s": seconds} if ms is None else {"advance_ms": ms}
        return self._fortisim.control("POST", "/clock", body)

    @property
    def now_ms(self):
        return self.get()["now_ms"]


class Listener:
    """The HTTPS listener: `POST /listener/refuse` and `POST /listener/open`; each returns once
    every worker has followed."""

    def __init__(self, fortisim):
        self._fortisim = fortisim

    def refuse(self, for_ms=0):
        """Clients get ECONNREFUSED for `for_ms` milliseconds (0: until `open()`)."""
        return self._fortisim.control("POST", "/listener/refuse", {"for_ms": for_ms})

    def open(self):
        return self._fortisim.control("POST", "/listener/open")

    @property
    def listening(self):
        return self._fortisim.status()["listening"]


class Fortisim:
    """A running fortisim: where it serves, the CA to trust, and the control API's calls.

    `url` is the HTTPS base URL (`https://127.0.0.1:PORT`, which the lab certificate names),
    `admin_url` the control API's (`http://127.0.0.1:PORT`), `ca` the lab CA's PEM file, `ready`
    the whole ready line. A refused control call raises `FortisimError` with fortisim's message.
    """

    def __init__(self, ready, process=None, data_dir=None, log_path=None, admin_token=None):
        self.ready = ready
        self.port = int(ready["listen"].rsplit(":", 1)[1])
        self.url = f"https://127.0.0.1:{self.port}"
        self.admin_url = "http://" + ready["admin"]
        self.ca = ready["ca"]
        self.clock = Clock(self)
        self.listener = Listener(self)
        self._process = process
        self._data_dir = data_dir
        self._log_path = log_path
        self._control = _quiet_session()
        if admin_token is not None:  # serve's --admin-token: every control call carries it
            self._control.headers["Authorization"] = "Bearer " + admin_token

    # --- HTTPS, as a FortiCare client ---------------------------------------------------------

    def session(self):
        """A new requests session for `url`: it trusts fortisim's lab CA alone (`verify = ca`) and
        ignores the environment's proxies and CA bundles (`trust_env = False`)."""
        session = _quiet_session()
        session.verify = self.ca
        return session

    def post(self, path, json, *, host=FORTICARE_HOST, timeout=CALL_TIMEOUT_S, **kwargs):
        """POSTs `json` to `path` as a FortiGate would: on a new connection to 127.0.0.1 (the
        Fortinet names resolve to nothing here), with TLS SNI and `Host` saying `host`, the
        certificate checked against that name and the lab CA. A new connection each time, so a
        refusing listener or a rule on connections sees every call. Returns the
        `requests.Response`; a refused or reset connection raises as requests does."""
        headers = {"Host": host, **kwargs.pop("headers", {})}
        with self.session() as session:
            session.mount(self.url + "/", _ServerNameAdapter(host))
            return session.post(self.url + path, json=json, headers=headers, timeout=timeout, **kwargs)

    # --- the control API ------------------------------------------------------------------------

    def control(self, method, path, body=None, *, params=None, timeout=CALL_TIMEOUT_S):
        """A control API call: its JSON answer, or `FortisimError` with fortisim's `error`.
        `params` (a dict) is percent-encoded into the query; a body is sent as JSON."""
        url = self.admin_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        kwargs = {"timeout": timeout}
        if body is not None:
            kwargs["json"] = body
        try:
            reply = self._control.request(method, url, **kwargs)
        except requests.RequestException as e:  # refused, reset, or no answer within `timeout`
            raise FortisimError(f"fortisim: {method} {path}: no answer ({e})" + self._exit_note()) from e
        try:
            answer = reply.json()
        except ValueError:
            answer = None
        if reply.status_code >= 400:
            error = answer.get("error") if isinstance(answer, dict) else None
            error = error or reply.text or reply.reason
            raise FortisimError(f"fortisim: {method} {path}: {error}", status=reply.status_code, error=error)
        return answer

    def status(self):
        return self.control("GET", "/status")

    def wait_in_flight(self, n, timeout_ms=5000):
        """`GET /status`, answered as soon as `n` requests are in flight (0: every one started has
        ended, its entry in the journal), or once `timeout_ms` has passed: its `in_flight` says
        which. `GET /status?in_flight=n&wait_ms=timeout_ms`; fortisim wakes as each starts or ends."""
        return self.control("GET", "/status", params={"in_flight": n, "wait_ms": timeout_ms},
                            timeout=CALL_TIMEOUT_S + timeout_ms / 1000)

    def state(self):
        return self.control("GET", "/state")

    def reset(self, **item):
        """`POST /reset`: everything back to the scenario's start, or with one keyword only that
        item: `license=CODE`, `token=SERIAL`, `serial=DEVICE` or `hardware=SERIAL`."""
        if len(item) > 1:
            raise TypeError(f"reset: one item at most, got {sorted(item)}")
        return self.control("POST", "/reset", dict(item))

    def journal(self, **filters):
        """`GET /journal` with `filters` (`operation=…`, `serial=…`, `error_code=14`, `rule=…`,
        `after=`, `limit=`, …), percent-encoded: the entries, oldest first."""
        return self.control("GET", "/journal", params=filters)

    def count(self, **filters):
        """`GET /journal/count`: how many entries `filters` select."""
        return self.control("GET", "/journal/count", params=filters)["count"]

    def wait_count(self, n, timeout_ms=5000, **filters):
        """The count of entries `filters` select, answered as soon as there are `n` of them, or
        once `timeout_ms` has passed (then it may be less than `n`): for entries that arrive
        after the client saw the outcome (a TLS alert, a reset, a client that gave up).
        `GET /journal/count?…&at_least=n&wait_ms=timeout_ms`; fortisim wakes on each entry."""
        params = {**filters, "at_least": n, "wait_ms": timeout_ms}
        return self.control("GET", "/journal/count", params=params,
                            timeout=CALL_TIMEOUT_S + timeout_ms / 1000)["count"]

    def clear_journal(self):
        return self.control("DELETE", "/journal")

    def rules(self):
        """`GET /rules`: every rule in the order they are tried."""
        return self.control("GET", "/rules")

    @contextlib.contextmanager
    def rule(self, rule=None, **fields):
        """Adds a rule at runtime (`POST /rules`, scenario syntax with a `name`) for the `with`
        block, and deletes it at its end (`DELETE /rules/<name>`; one a reset removed already is
        left be). Give the rule as a dict, as keywords, or both:

            with fortisim.rule(name="expired", when={"serial_number": "FG5"},
                               then={"action": "error", "code": 14}) as name: …
        """
        body = {**(rule or {}), **fields}
        if not body.get("name"):
            raise TypeError("rule: a runtime rule needs a name")
        name = body["name"]
        self.control("POST", "/rules", body)
        failed = True
        try:
            yield name
            failed = False
        finally:
            try:
                self.control("DELETE", "/rules/" + urllib.parse.quote(name, safe=""))
            except FortisimError as e:
                # One a reset removed is gone already; and the block's own failure, if any, is the
                # one to report, not the delete's.
                if e.status != 404 and not failed:
                    raise

    def otp(self, serial):
        """`GET /tokens/<serial>/otp`: `{"otp": "646141", "valid_for_s": …, "type": …, …}`."""
        return self.control("GET", "/tokens/" + urllib.parse.quote(serial, safe="") + "/otp")

    def verify_otp(self, serial, otp):
        """`POST /tokens/<serial>/verify`: whether a verifier accepts `otp`."""
        path = "/tokens/" + urllib.parse.quote(serial, safe="") + "/verify"
        return self.control("POST", path, {"otp": otp})["valid"]

    def release(self, serial):
        """`POST /hardware/<serial>/release`: a consumed one-time lock is free again."""
        return self.control("POST", "/hardware/" + urllib.parse.quote(serial, safe="") + "/release")

    def switch_scenario(self, scenario, reset=True):
        """`POST /scenario`: serve a shipped scenario (by name) or a file from now on."""
        return self.control("POST", "/scenario", {"scenario": str(scenario), "reset": reset})

    # --- the process --------------------------------------------------------------------------

    def alive(self):
        return self._process is None or self._process.poll() is None

    def _exit_note(self):
        if self._process is None or self._process.poll() is None:
            return ""
        return (f"; fortisim exited with status {self._process.returncode}: "
                + last_words(self._log_path))

    def check_alive(self):
        """Raises `FortisimError` with fortisim's last words if it has exited."""
        if not self.alive():
            raise FortisimError("fortisim is not running" + self._exit_note())

    def stop(self, timeout_s=10.0):
        """SIGTERM, at most `timeout_s` to drain, then SIGKILL; removes its data folder."""
        try:
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(timeout=timeout_s)
        finally:
            self._control.close()
            if self._data_dir:
                shutil.rmtree(self._data_dir, ignore_errors=True)
                self._data_dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return f"<Fortisim {self.url} admin {self.admin_url}>"


def _is_path(scenario):
    text = os.fspath(scenario)
    return os.sep in text or text.endswith(".json") or os.path.exists(text)


def _parent_death_signal():
    """What the child runs before exec so that it gets SIGTERM when the process that started it
    dies, however it dies (a test run killed with SIGKILL leaves no fortisim behind): Linux's
    prctl(PR_SET_PDEATHSIG). Looked up here, in the parent: the child only calls it (no import
    between fork and exec). None where there is no prctl: the fixtures' own stop() still ends it."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, int(signal.SIGTERM), 0, 0, 0)  # 1: PR_SET_PDEATHSIG


def start(binary, scenario=None, *, args=(), timeout_s=20.0, base_dir=None):
    """Starts `binary serve` and returns its `Fortisim` once ready.

    `scenario`: None for the shipped default, a path (anything with a `/`, ending `.json`, or an
    existing file), or the name of a shipped scenario (`"expired-license"`, as `GET /scenarios`
    lists them; served through `POST /scenario` with a reset). `args` go to `serve` as they are.
    With `--admin-token` among `args`, the handle's control calls carry it.
    Raises `FortisimStartError` with fortisim's own error if it exits or is not ready within
    `timeout_s`. Its data folder is made in `base_dir` (the plugin gives pytest's own temporary
    folder), else in the system's; fortisim gets SIGTERM if this process dies.
    """
    data_dir = tempfile.mkdtemp(prefix="fortisim-pytest-", dir=base_dir)
    ready_path = os.path.join(data_dir, "ready.json")
    log_path = os.path.join(data_dir, "fortisim.log")
    command = [os.fspath(binary), "serve", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
               "--data", data_dir, "--ready-file", ready_path, "--threads", "1", "--log-format", "json"]
    name = None
    if scenario is not None:
        if _is_path(scenario):
            command += ["--scenario", os.path.abspath(os.fspath(scenario))]
        else:
            name = str(scenario)
    command += list(args)
    try:
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=log, preexec_fn=_parent_death_signal())
    except OSError as e:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise FortisimStartError(f"fortisim could not be run ({binary}): {e}") from e

    def fail(message):
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        said = last_words(log_path)  # read before the folder goes
        shutil.rmtree(data_dir, ignore_errors=True)
        return FortisimStartError(message + said, error=said)

    try:
        ready = _wait_ready(process, ready_path, timeout_s, fail)
    except BaseException:  # Ctrl-C or anything else while waiting: nothing is left running
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(data_dir, ignore_errors=True)
        raise

    fortisim = Fortisim(ready, process, data_dir, log_path, admin_token=_admin_token(args))
    if name is not None:
        try:
            fortisim.ready["scenario"] = fortisim.switch_scenario(name)["scenario"]  # what it serves now
        except FortisimError as e:
            fortisim.stop()
            raise FortisimStartError(f"fortisim could not serve scenario {name!r}: {e.error or e}",
                                     status=e.status, error=e.error) from e
        except BaseException:
            fortisim.stop()
            raise
    return fortisim


def _admin_token(args):
    """The value of `--admin-token` among serve's `args` (`--admin-token T` or `--admin-token=T`;
    the last one given, as serve takes it), or None."""
    token = None
    args = [os.fspath(a) for a in args]
    for i, arg in enumerate(args):
        if arg == "--admin-token" and i + 1 < len(args):
            token = args[i + 1]
        elif arg.startswith("--admin-token="):
            token = arg.split("=", 1)[1]
    return token


def _wait_ready(process, ready_path, timeout_s, fail):
    """The ready line, once fortisim has written its ready file; `fail(message)` (an exception to
    raise) if it exits first or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with open(ready_path, encoding="utf-8") as f:
                return json.loads(f.readline())  # written whole (renamed into place)
        except FileNotFoundError:
            pass
        status = process.poll()
        if status is not None:
            raise fail(f"fortisim exited with status {status} before it was ready: ")
        if time.monotonic() >= deadline:
            raise fail(f"fortisim was not ready within {timeout_s} s; its stderr ends: ")
        time.sleep(0.01)
