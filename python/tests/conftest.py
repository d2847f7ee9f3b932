"""The plugin's own tests: fortisim_pytest is installed, so pytest loads it by its entry point;
pytester runs the sessions that must start from nothing (no binary, reset between tests)."""

pytest_plugins = ["pytester"]
