"""The shipped pytest plugin: a host's own test suite gets a running sandbox with one line."""

from __future__ import annotations

import pytest

HOST_TESTS = '''
import sys

from flask_maventa.client import MaventaClient, MemoryTokenStore


def test_the_plugin_alone_imports_no_sandbox():  # runs first: nothing has asked for a sandbox yet
    assert "flask_maventa.sandbox" not in sys.modules and "jsonschema" not in sys.modules


def test_a_verified_company_answers_over_http(maventa_sandbox):
    company_uuid, api_key = maventa_sandbox.new_company(verified=True)
    client = MaventaClient(maventa_sandbox.url, maventa_sandbox.vendor_api_key, token_store=MemoryTokenStore())
    assert client.for_company(company_uuid, api_key).current()["company"]["id"] == company_uuid
    assert maventa_sandbox.app_config() == {"MAVENTA_ENVIRONMENT": "sandbox",
                                            "MAVENTA_SANDBOX_URL": maventa_sandbox.url,
                                            "MAVENTA_VENDOR_API_KEY": maventa_sandbox.vendor_api_key}
    maventa_sandbox.config(delivery_delay=30)


def test_each_test_starts_from_a_reset_sandbox(maventa_sandbox):
    assert maventa_sandbox.stats()["tokens_issued"] == 0
    assert maventa_sandbox.config()["delivery_delay"] == 0
'''


@pytest.fixture(autouse=True)
def _a_host_suite_without_our_dev_plugins(monkeypatch):
    """The host's pytest loads the plugins its conftest names, not the ones installed for this repository's
    own tests (hypothesis, playwright, xdist, ...: ~3 s of CPU in each run, and no part of what is tested)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def test_a_host_enables_the_sandbox_fixture_with_one_line(pytester):
    pytester.makeconftest('pytest_plugins = ["flask_maventa.testing.pytest_plugin"]\n')
    pytester.makepyfile(test_host=HOST_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_without_the_line_there_is_no_sandbox_fixture(pytester):
    pytester.makepyfile(test_host=HOST_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["*fixture 'maventa_sandbox' not found*"])
