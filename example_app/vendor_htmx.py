"""Fetch htmx for the example app from the npm registry, integrity checked (``make htmx``).

    python -m example_app.vendor_htmx [--version 2.0.11 --integrity sha512-...]

Uses ``npm pack`` when npm is there, otherwise downloads the same tarball from the npm registry
(``$npm_config_registry``, default registry.npmjs.org); either way the tarball must match the
sha512 integrity committed below. The browser never loads htmx from a CDN. If the registry cannot
be reached it says so and exits 0: the extension's pages work without JavaScript.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

HTMX_VERSION = "2.0.11"
HTMX_INTEGRITY = "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA=="
TARGET = Path(__file__).parent / "static" / "vendor" / "htmx.min.js"


class IntegrityError(RuntimeError):
    pass


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def extract_htmx(tarball: bytes, integrity: str) -> bytes:
    actual = integrity_of(tarball)
    if actual != integrity:
        raise IntegrityError(f"htmx tarball integrity mismatch: expected {integrity}, got {actual}. "
                             "Refusing to install it.")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile("package/dist/htmx.min.js")
        if member is None:
            raise IntegrityError("the htmx tarball has no package/dist/htmx.min.js")
        return member.read()


def npm_pack(version: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"htmx.org@{version}", "--silent"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        return next(Path(tmp).glob("htmx.org-*.tgz")).read_bytes()


def registry_download(version: str) -> bytes:
    """The tarball ``npm pack`` would fetch, straight from the npm registry (machines without Node)."""
    # npm's own name for the setting, lowercase as npm itself sets it for the scripts it runs
    registry = (os.environ.get("npm_config_registry") or "https://registry.npmjs.org/").rstrip("/")  # noqa: SIM112
    with urllib.request.urlopen(f"{registry}/htmx.org/-/htmx.org-{version}.tgz", timeout=60) as response:
        return response.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_app.vendor_htmx")
    parser.add_argument("--version", default=HTMX_VERSION)
    parser.add_argument("--integrity", default=HTMX_INTEGRITY)
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    if args.target.exists():
        print(f"htmx: {args.target} is already there")
        return 0
    try:
        tarball = npm_pack(args.version) if shutil.which("npm") else registry_download(args.version)
    except (subprocess.CalledProcessError, OSError) as exc:  # urllib.error.URLError is an OSError
        print(f"htmx: the npm registry could not be reached ({exc}), so the example app runs without htmx "
              "(every page still works, with full page loads). Run `make htmx` when it can be.")
        return 0
    try:
        script = extract_htmx(tarball, args.integrity)
    except IntegrityError as exc:
        print(f"htmx: {exc}", file=sys.stderr)
        return 1
    args.target.parent.mkdir(parents=True, exist_ok=True)
    args.target.write_bytes(script)
    print(f"htmx {args.version}: integrity {args.integrity[:20]}... checked, installed at {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
