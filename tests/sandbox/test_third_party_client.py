"""An open-source Maventa client from npm (@rantalainen/maventa-api-client 2.1.0, pinned with its lock file in
tests/thirdparty/maventa-api-client; `make npm-client` installs it) runs its ten steps unchanged against the
sandbox over HTTP: registration, token + /oauth2/current with its default scope "eui", signing, settings read
and PATCH, receiver look-up, a ZIP invoice upload, and reading the invoice back."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.fixtures.services import require_service

CLIENT_DIR = Path(__file__).resolve().parents[1] / "thirdparty" / "maventa-api-client"


def run_steps(sandbox) -> list[dict]:
    if shutil.which("node") is None:
        require_service("node", "Node.js runs the third-party npm client (apt-get install nodejs npm)")
    if not (CLIENT_DIR / "node_modules" / "@rantalainen" / "maventa-api-client").is_dir():
        require_service("npm client", "run `make npm-client` to install the pinned third-party client")
    done = subprocess.run(["node", "steps.js", sandbox.url, sandbox.vendor_api_key], cwd=CLIENT_DIR,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_the_npm_client_passes_every_step_against_the_sandbox(sandbox):
    steps = run_steps(sandbox)
    assert [s["step"].split()[0] for s in steps] == [str(n) for n in range(1, 11)]
    assert [s for s in steps if not s["ok"]] == []
    assert steps[9]["detail"].startswith("CREATED")
    (invoice,) = sandbox.invoices()["invoices"]
    assert invoice["image"]["source"] == "zip"  # its XML + PDF ZIP is read as the own image


def test_with_literal_scopes_the_eui_token_fails_only_at_oauth2_current(sandbox):
    """The old sandbox behaviour (behind a knob): exactly the step the issue saw fail."""
    sandbox.config(scope_aliases="literal")
    steps = run_steps(sandbox)
    assert [s["step"] for s in steps if not s["ok"]] == ["3 token and /oauth2/current"]
