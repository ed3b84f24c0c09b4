import gc
import os
import sys
import tempfile
import weakref

import pytest
import sqlalchemy as sa

from tests.fixtures import launcher

# jsonschema's optional IRI format checker (rfc3987-syntax, installed by bravado-core's
# jsonschema[format-nongpl]) compiles ~35 Earley parsers when jsonschema is imported: ~5 s of CPU in every
# test process (python-jsonschema/jsonschema#1428). No schema of ours has an "iri" format (the sandbox
# checks Draft 4, the invoice schema uses "date"), so the test processes import jsonschema without it, as
# ``python -m flask_maventa.sandbox`` does.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

# The tests' files (tmp_path, the SQLite databases, Redis' and PostgreSQL's folders) in memory where the
# machine has a tmpfs: every SQLite commit fsyncs its journal, which on a shared disk cost seconds per file
# of page tests. Set before any temporary folder is made; the workers of pytest-xdist and every
# subprocess inherit it. A TMPDIR of the caller's own wins.
if "TMPDIR" not in os.environ and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    os.environ["TMPDIR"] = "/dev/shm"
    tempfile.tempdir = None  # tempfile reads TMPDIR again

pytest_plugins = [
    "pytester",
    "tests.fixtures.services",
    "tests.fixtures.apps",
    "flask_maventa.testing.pytest_plugin",  # the sandbox, exactly as a host's tests get it
    "tests.fixtures.peppol",
    "tests.fixtures.contract",
    "tests.fixtures.templates",
    "tests.fixtures.url_rules",
    "tests.fixtures.sql_cache",
    "tests.fixtures.xdist_groups",
]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """The slow and browser tests first: pytest-xdist hands out work in this order, so the two workers finish together
    instead of one waiting for the other's last long test (the contract test is still moved last)."""
    items.sort(key=lambda item: not (item.get_closest_marker("slow") or item.get_closest_marker("browser")))


# What the test process imported and collected stays alive until the end: frozen out of the garbage
# collector's view, its full rounds stop re-scanning it (tests/settings: 2.4 s of collector time instead of
# 3.4 s, of ~22 s of CPU). New garbage is collected as before.
def pytest_collection_finish(session):
    gc.collect()
    gc.freeze()  # the modules, plugins and collected tests: alive until the end anyway


def pytest_unconfigure(config):
    """The process launcher (tests/fixtures/launcher.py) stops with the session, its children reaped."""
    launcher.stop_shared()


@pytest.fixture
def sandbox(maventa_sandbox):
    """Our tests' short name for the shipped plugin's ``maventa_sandbox``."""
    return maventa_sandbox


@pytest.fixture(autouse=True)
def _close_database_connections():
    """Every engine a test connected with is disposed when the test ends: its pooled connections are closed
    now, not whenever they are collected (psycopg warns about those, and warnings are errors here)."""
    engines: weakref.WeakSet[sa.engine.Engine] = weakref.WeakSet()

    def remember(connection: sa.engine.Connection) -> None:
        engines.add(connection.engine)

    sa.event.listen(sa.engine.Engine, "engine_connect", remember)
    yield
    sa.event.remove(sa.engine.Engine, "engine_connect", remember)
    for engine in list(engines):
        engine.dispose()
