"""The wheel carries templates/ and static/: build it, install it into a fresh virtual
environment (no network: its dependencies come from this environment through a .pth
file), and render the landing page and fetch the CSS from the installed copy."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.services import require_service

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent('''
    import sys
    from pathlib import Path

    import flask_maventa
    venv = Path(sys.argv[1]).resolve()
    installed = Path(flask_maventa.__file__).resolve()
    assert venv in installed.parents, f"imported {installed}, not the installed copy under {venv}"

    from flask import Flask
    from flask_babel import Babel
    from flask_sqlalchemy import SQLAlchemy
    from flask_maventa import Address, Company, Maventa
    from flask_maventa.infra.models import metadata
    from flask_maventa.testing import MemoryAdapter

    app = Flask("packaged_host")
    app.config.update(SECRET_KEY="k", SQLALCHEMY_DATABASE_URI="sqlite://", MAVENTA_ENVIRONMENT="sandbox")
    db = SQLAlchemy(app)
    Babel(app)
    adapter = MemoryAdapter()
    adapter.add_company(Company("c1", "Packaged Fjord AS", "923456783", "NO", vat_number="NO923456783MVA",
                                address=Address(street="Storgata 1", post_code="0155", city="Oslo", country="NO")))
    Maventa(app, db=db, adapter=adapter)
    with app.app_context():
        metadata.create_all(db.engine)
    client = app.test_client()
    page = client.get("/settings/integrations/maventa/")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    assert "Packaged Fjord AS" in html and "<html" in html
    css = client.get("/settings/integrations/maventa/static/maventa/maventa.css")
    assert css.status_code == 200 and b".maventa" in css.data
    template = app.jinja_env.get_or_select_template("maventa/index.html").filename
    assert venv in Path(template).resolve().parents, template
    print("rendered from", installed.parent)
''')


def run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_the_wheel_renders_pages_from_its_installed_copy(tmp_path):
    try:  # the build backend must be installed: building in isolation would need the network
        import hatchling  # noqa: F401
    except ImportError:
        require_service("hatchling", "the wheel cannot be built offline; add hatchling>=1.24 to the test extras")
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)], cwd=ROOT)
    wheel = next(dist.glob("flask_maventa-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "flask_maventa/templates/maventa/base.html" in names
    assert "flask_maventa/templates/maventa/partials/_companies.html" in names
    assert "flask_maventa/static/maventa/maventa.css" in names
    assert "flask_maventa/py.typed" in names  # PEP 561: a host's type checker reads our annotations
    assert "flask_maventa/testing/pytest_plugin.py" in names  # the host's tests' maventa_sandbox
    assert not any(name.startswith(("tests/", "example_app/")) for name in names)

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
         "--quiet", str(wheel)])
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # The dependencies come from this test environment (appended after the venv's own site-packages).
    (site / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    workdir = tmp_path / "elsewhere"  # not the repository: its flask_maventa/ must not be importable
    workdir.mkdir()
    (workdir / "check.py").write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith("MAVENTA_")}
    result = run([str(python), "check.py", str(venv)], cwd=workdir, env=env)
    assert "rendered from" in result.stdout and str(site) in result.stdout
