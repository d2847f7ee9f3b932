"""The plugin's own tests: fortisim_pytest is installed, so pytest loads it by its entry point;
pytester runs the sessions that must start from nothing (no binary, reset between tests)."""

import os

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def binary_for_inner_sessions(request, monkeypatch):
    """The sessions pytester starts use the binary this one was given: --fortisim-bin reaches them
    as $FORTISIM_BIN (made absolute, since they run in folders of their own)."""
    given = request.config.getoption("fortisim_bin")
    if given:
        monkeypatch.setenv("FORTISIM_BIN", os.path.abspath(given))
