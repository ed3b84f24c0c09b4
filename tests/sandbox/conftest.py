import pytest

from tests.fixtures.sandbox import OPEN_CLIENTS


@pytest.fixture(autouse=True)
def _close_plain_clients():
    """What :func:`~tests.fixtures.sandbox.plain_client` opened during the test, closed after it."""
    yield
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()
