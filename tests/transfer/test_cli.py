"""`flask maventa sweep` and `flask maventa doctor` as an operator runs them."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def _flask(host, *args):
    return subprocess.run([sys.executable, "-m", "flask", "maventa", *args], cwd=ROOT, env=host.env(),
                          capture_output=True, text=True, timeout=120)


def test_sweep_command_creates_and_dispatches(host):
    host.connect()
    host.add_invoice("1")
    host.connect("c1-bergen", transfer_status_id="sent")
    result = _flask(host, "sweep")
    assert result.returncode == 0, result.stderr
    assert "created 1 transfer(s), dispatched 1 job(s)" in result.stdout
    assert "skipped company c1-bergen" in result.stdout
    assert host.states() == {"1": "queued"}


def test_doctor_reports_working_setup_and_names_fixes(host):
    good = host.connect()
    result = _flask(host, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Maventa accepts its credentials" in result.stdout and "Redis answers" in result.stdout

    good.api_key_encrypted = host.ext.secrets().encrypt("not-the-key-42")
    host.db.session.commit()
    broken = _flask(host, "doctor")
    assert broken.returncode == 1
    assert "fix: check the Company UUID and User API key" in broken.stdout
    assert "not-the-key-42" not in broken.stdout + broken.stderr
