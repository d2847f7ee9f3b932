"""The pytest plugin (entry point `pytest11`): the `--fortisim-bin` option and the `fortisim`
and `fortisim_factory` fixtures."""

import contextlib
import os
import shutil

import pytest

from .server import start


def pytest_addoption(parser):
    group = parser.getgroup("fortisim")
    group.addoption("--fortisim-bin", metavar="PATH", default=None,
                    help="the fortisim binary (else $FORTISIM_BIN, else fortisim on PATH)")


def fortisim_binary(config):
    """The binary: `--fortisim-bin`, else `$FORTISIM_BIN`, else `fortisim` on PATH."""
    for source, path in (("--fortisim-bin", config.getoption("fortisim_bin")),
                         ("FORTISIM_BIN", os.environ.get("FORTISIM_BIN"))):
        if path:
            path = os.path.abspath(path)  # tests may change directory (pytester does)
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                pytest.fail(f"fortisim: {source} names {path}, which is not an executable file",
                            pytrace=False)
            return path
    path = shutil.which("fortisim")
    if not path:
        pytest.fail("fortisim: no binary: give --fortisim-bin PATH, set FORTISIM_BIN, "
                    "or put fortisim on PATH", pytrace=False)
    return path


@pytest.fixture(scope="session")
def fortisim_session_server(pytestconfig, tmp_path_factory):
    """The session's fortisim, serving the shipped default scenario; stopped at the end."""
    with start(fortisim_binary(pytestconfig), base_dir=tmp_path_factory.getbasetemp()) as server:
        server.first_file = server.status()["file"]
        yield server


@pytest.fixture
def fortisim(fortisim_session_server):
    """The session's fortisim back at the default scenario's start: the world, the clock, rule
    counters, runtime rules, the journal and the listener (`POST /reset`, or `POST /scenario` with
    a reset when an earlier test switched scenarios)."""
    server = fortisim_session_server
    server.check_alive()
    if server.status()["file"] != server.first_file:
        server.switch_scenario(server.first_file, reset=True)
    else:
        server.reset()
    return server


@pytest.fixture
def fortisim_factory(pytestconfig, tmp_path_factory):
    """`fortisim_factory(scenario=None, args=())` starts a fortisim of the test's own for a
    scenario (a shipped scenario's name or a file's path); each is stopped after the test."""
    binary = []
    with contextlib.ExitStack() as stack:
        def factory(scenario=None, args=(), timeout_s=20.0):
            if not binary:
                binary.append(fortisim_binary(pytestconfig))
            return stack.enter_context(start(binary[0], scenario, args=args, timeout_s=timeout_s,
                                             base_dir=tmp_path_factory.getbasetemp()))
        yield factory


