from tests.fixtures.sandbox import sandbox, sandbox_server  # noqa: F401 - until tests/conftest.py lists the plugin
