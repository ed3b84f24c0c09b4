import pytest

pytest_plugins = [
    "pytester",
    "tests.fixtures.services",
    "tests.fixtures.apps",
    "flask_maventa.testing.pytest_plugin",  # the sandbox, exactly as a host's tests get it
    "tests.fixtures.peppol",
    "tests.fixtures.contract",
]


@pytest.fixture
def sandbox(maventa_sandbox):
    """Our tests' short name for the shipped plugin's ``maventa_sandbox``."""
    return maventa_sandbox
