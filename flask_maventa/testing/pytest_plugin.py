"""pytest plugin: a running sandbox Maventa for a host's own tests, over real HTTP.

Enable it with one line in the host's top-level ``conftest.py``::

    pytest_plugins = ["flask_maventa.testing.pytest_plugin"]

and every test can take ``maventa_sandbox`` (a :class:`~flask_maventa.testing.SandboxHandle`)::

    def test_sending(app, maventa_sandbox):
        app.config.update(maventa_sandbox.app_config())
        company_uuid, api_key = maventa_sandbox.new_company(verified=True)
        ...

One sandbox serves the whole session on a free loopback port and is reset before each test. A test that
made the sandbox answer something Maventa's swagger does not describe fails at teardown. A test changes
knobs with ``maventa_sandbox.config(delivery_delay=0.5)`` (README, "The sandbox"); the reset undoes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..sandbox import SandboxServer
    from .sandbox import SandboxHandle

VENDOR_API_KEY = "sandbox-vendor-key-for-tests"


@pytest.fixture(scope="session")
def maventa_sandbox_server() -> Iterator[SandboxServer]:
    """The session's sandbox server, started once (``maventa_sandbox`` resets it for each test).

    Webhooks are retried quickly so tests need not wait. Override this fixture to start the sandbox
    with other knobs; a single test changes them with ``maventa_sandbox.config(...)``.
    """
    # Imported here, by the first test that wants a sandbox: a host's test run that loads the plugin but
    # never asks for one does not import the sandbox and its request checker (jsonschema).
    from ..sandbox import SandboxServer

    server = SandboxServer(vendor_api_key=VENDOR_API_KEY, webhook_retry_delay=0.05).start()
    yield server
    server.stop()


@pytest.fixture
def maventa_sandbox(maventa_sandbox_server: SandboxServer) -> Iterator[SandboxHandle]:
    """A freshly reset sandbox; fails the test at teardown if an answer broke Maventa's swagger."""
    from .sandbox import SandboxHandle

    handle = SandboxHandle(maventa_sandbox_server)
    handle.reset()
    yield handle
    problems = handle.stats()["response_problems"]
    handle.close()
    assert not problems, f"the sandbox answered outside its swagger: {problems}"
