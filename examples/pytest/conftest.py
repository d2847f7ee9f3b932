"""pytest fixtures that run fortisim for another project's tests.

`fortisim_server` starts `fortisim serve` once per session on 127.0.0.1:0 (a free port), reads its
ready line, and stops it at the end; `fortisim` hands it to a test after a reset, so no test sees
another's licences, tokens, runtime rules or journal. `fortisim_for(scenario)` starts one of a
test's own for a scenario file. The binary is $FORTISIM_BIN, else `fortisim` on PATH. When
fortisim exits before it is ready (a bad scenario, a port it cannot have), the error raised
carries fortisim's own last lines on stderr.

Every HTTPS call trusts fortisim's lab CA and nothing else: `verify=<ca.pem>` on each call, in a
session that ignores the environment (see `FortisimServer.https`).
"""

import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests

def fortisim_binary():
    path = os.environ.get("FORTISIM_BIN") or shutil.which("fortisim")
    if not path:
        pytest.fail("no fortisim: set FORTISIM_BIN or put fortisim on PATH")
    return path


def last_words(log_path, lines=5):
    """fortisim's last lines on stderr, read from `log_path`: why it stopped, in its own words. A
    start-up failure is one line ({"event": "failed", "error": …} when stderr is not a terminal,
    as here): its error is given as text."""
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
        said.append(event.get("error", line) if failed else line)
    return "\n".join(said) or "(nothing on stderr)"


def read_ready_line(proc, log_path, timeout_s=10.0):
    """The first line fortisim prints on stdout, as JSON; waits at most `timeout_s`. If none comes,
    the error names fortisim's last words on stderr (its log at `log_path`)."""
    deadline = time.monotonic() + timeout_s
    buffer = b""
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        readable, _, _ = select.select([proc.stdout], [], [], max(left, 0))
        if not readable:
            raise TimeoutError(f"fortisim printed no ready line within {timeout_s} s; its stderr ends:\n"
                               + last_words(log_path))
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            status = proc.wait()
            raise RuntimeError(f"fortisim exited with status {status} before it was ready: "
                               + last_words(log_path))
        buffer += chunk
    return json.loads(buffer.split(b"\n", 1)[0])


class FortisimServer:
    """A running fortisim: its addresses, its CA, and calls on it."""

    def __init__(self, ready):
        """`ready` is the ready line: {"listen": "127.0.0.1:40123", "ca": …, "admin": …}."""
        self.ready = ready
        self.port = int(ready["listen"].rsplit(":", 1)[1])
        self.ca = ready["ca"]
        self.admin = "http://" + ready["admin"]
        self.session = requests.Session()
        # A test environment may set REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, and HTTPS_PROXY: with
        # trust_env on, requests lets the bundles override a session's `verify` (silently: the
        # calls verify against another CA), and sends loopback calls to the proxy. Off, only what
        # this fixture says counts; `verify` is passed on every call as well.
        self.session.trust_env = False

    def https(self, path, body, host="localhost"):
        """POSTs `body` (a dict) over TLS, trusting fortisim's CA alone. The lab certificate names
        localhost and every Fortinet host; `localhost` needs no resolver override."""
        return self.session.post(f"https://{host}:{self.port}{path}", json=body, verify=self.ca, timeout=10)

    def control(self, method, path, body=None):
        """A control API call (plain HTTP on loopback), its JSON reply."""
        reply = self.session.request(method, self.admin + path, json=body, timeout=10)
        reply.raise_for_status()
        return reply.json()

    def journal(self, **filters):
        """GET /journal with `filters` (rule="cut & retry", error_code=14, …), percent-encoded."""
        return self.control("GET", "/journal?" + urllib.parse.urlencode(filters))

    def wait_count(self, at_least=1, wait_ms=5000, **filters):
        """The number of journal entries that match `filters`, answered as soon as there are
        `at_least` of them, or once `wait_ms` has passed (the count either way): for entries that
        can arrive after the client saw the outcome, such as the client's own TLS alert.
        GET /journal/count?<filters>&at_least=N&wait_ms=T."""
        query = urllib.parse.urlencode({**filters, "at_least": at_least, "wait_ms": wait_ms})
        reply = self.session.get(f"{self.admin}/journal/count?{query}", timeout=10 + wait_ms / 1000)
        reply.raise_for_status()
        return reply.json()["count"]

    def reset(self):
        self.control("POST", "/reset", {})


@contextlib.contextmanager
def start_fortisim(scenario=None):
    """fortisim serving `scenario` (a path; None: the shipped default.json, found beside the binary)."""
    with tempfile.TemporaryDirectory(prefix="fortisim-pytest-") as data:
        command = [fortisim_binary(), "serve", "--listen", "127.0.0.1:0", "--threads", "1", "--data", data]
        if scenario:
            command += ["--scenario", str(scenario)]
        log_path = os.path.join(data, "fortisim.log")  # read on failure, before the folder goes
        with open(log_path, "w") as log:
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log)
            try:
                yield FortisimServer(read_ready_line(proc, log_path))
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.fixture(scope="session")
def fortisim_server():
    with start_fortisim() as server:
        yield server


@pytest.fixture
def fortisim(fortisim_server):
    """The session's fortisim, reset: back to its scenario's start, journal empty."""
    fortisim_server.reset()
    return fortisim_server


@pytest.fixture
def fortisim_for():
    """Starts fortisim for a scenario file of the test's own; each is stopped after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda scenario: stack.enter_context(start_fortisim(scenario))
