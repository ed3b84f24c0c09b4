"""pytest plugin for ``make test``: one line saying what was skipped and why.

Loaded with ``-p skip_summary`` (``.ci`` on PYTHONPATH). With CI=true the services'
``require_service`` already turns a missing service into a failure; this plugin also
refuses a run that collected no tests at all.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        terminalreporter.write_line("skipped: nothing")
        return
    reasons = Counter(_reason(r) for r in skipped)
    summary = "; ".join(f"{count} × {reason}" for reason, count in reasons.most_common())
    terminalreporter.write_line(f"skipped {len(skipped)}: {summary}", yellow=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if IN_CI and session.testscollected == 0 and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
