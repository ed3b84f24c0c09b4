"""The tests' process launcher (tests/fixtures/launcher.py) makes the process a fresh interpreter would make.

Each check runs the same probe twice, once with plain ``subprocess`` and once forked from the zygote, and
compares what the probe saw: argv, path, cwd, environment, ``__main__``, stdio, signal dispositions,
session, exit status. Only what a fresh process cannot share (its pid, its parent) may differ.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .fixtures import launcher
from .fixtures.processes import stat

PROBE = r'''
import atexit, json, os, signal, sys
main = sys.modules["__main__"]
seen = {
    "argv": sys.argv, "orig_argv": sys.orig_argv, "path": sys.path, "cwd": os.getcwd(), "name": __name__,
    "main": sorted(vars(main)), "file": vars(main).get("__file__"),
    "loader": type(vars(main).get("__loader__")).__name__, "spec": repr(vars(main).get("__spec__"))[:60],
    "env": {k: v for k, v in os.environ.items() if k.startswith("PROBE_") or k in ("PYTHONPATH", "TMPDIR")},
    "stdio": [(s.encoding, s.errors, s.line_buffering, s.write_through, s.fileno())
              for s in (sys.stdin, sys.stdout, sys.stderr)],
    "signals": {int(s): str(signal.getsignal(s)) for s in signal.valid_signals()
                if s not in (signal.SIGKILL, signal.SIGSTOP)},
    "blocked": sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
    "session_leader": os.getsid(0) == os.getpid(),
    "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
}
atexit.register(lambda: print("atexit ran", file=sys.stderr))
print(json.dumps(seen))
sys.stdout.flush()
if sys.argv[-1] == "fail":
    raise ValueError("the probe fails")
sys.exit(int(sys.argv[-1]))
'''


def both(args, *, zygote: launcher.Launcher | None = None, **kwargs):
    """The probe's answer and exit, run plainly and through the launcher (the shared one, or ``zygote``)."""
    plain = subprocess.run(args, capture_output=True, text=True, timeout=60, **kwargs)
    options = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    if zygote is None:
        process = launcher.popen(args, **options)
    else:
        process = launcher.LaunchedPopen.__new__(launcher.LaunchedPopen)
        process._launcher = zygote
        process.__init__(args, **options)
    assert isinstance(process, launcher.LaunchedPopen), "the launcher did not take this command"
    out, err = process.communicate(timeout=60)
    return plain, subprocess.CompletedProcess(args, process.returncode, out, err)


def compare(plain, launched):
    assert (launched.returncode, launched.stderr.splitlines()[-1:]) == (plain.returncode, plain.stderr.splitlines()[-1:])
    assert json.loads(launched.stdout) == json.loads(plain.stdout)


@pytest.fixture
def probe(tmp_path):
    (tmp_path / "probe_module.py").write_text(PROBE)
    (tmp_path / "probe_script.py").write_text(PROBE)
    return tmp_path


@pytest.mark.parametrize("form", ["-m", "script", "-c"])
def test_a_launched_process_sees_what_a_fresh_interpreter_sees(probe, form):
    args = {"-m": ["-m", "probe_module"], "script": [str(probe / "probe_script.py")], "-c": ["-c", PROBE]}[form]
    env = {**os.environ, "PROBE_VALUE": "é", "PYTHONPATH": f"{probe / 'lib'}{os.pathsep}{probe}"}
    env.pop("PYTHONUNBUFFERED", None)  # buffered stdio here, unbuffered in the next test
    compare(*both([sys.executable, *args, "a b", "3"], cwd=probe, env=env))


def test_unbuffered_output_a_new_session_a_failure_and_atexit(probe):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    plain, launched = both([sys.executable, "-m", "probe_module", "fail"], cwd=probe, env=env,
                           start_new_session=True)
    compare(plain, launched)
    assert launched.returncode == 1 and json.loads(launched.stdout)["session_leader"] is True
    assert "ValueError: the probe fails" in launched.stderr and "atexit ran" in launched.stderr


def test_what_the_caller_ignores_now_is_ignored_in_the_launched_process(probe):
    """A pytest worker started as a background job ignores SIGINT; once a test installs a handler (RQ's worker
    does), a process it starts gets Python's default handler again, and a signal it ignores later is ignored
    in that process. The zygote, started at either moment, follows the caller as it is at each launch."""
    original = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    args = [sys.executable, "-m", "probe_module", "0"]
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        zygote = launcher.Launcher()  # started while SIGINT is ignored
        try:
            for sigint, sigterm in ((signal.SIG_IGN, signal.SIG_DFL), (lambda *_: None, signal.SIG_IGN),
                                    (signal.default_int_handler, signal.SIG_DFL)):
                signal.signal(signal.SIGINT, sigint)
                signal.signal(signal.SIGTERM, sigterm)
                plain, launched = both(args, zygote=zygote, cwd=probe)
                compare(plain, launched)
                seen = json.loads(launched.stdout)["signals"]
                assert seen[str(int(signal.SIGINT))] == (
                    str(signal.SIG_IGN) if sigint is signal.SIG_IGN else str(signal.default_int_handler))
                assert seen[str(int(signal.SIGTERM))] == str(sigterm)
        finally:
            zygote.stop()
    finally:
        for sig, handler in original.items():
            signal.signal(sig, handler)


def test_a_signal_death_and_a_timeout_are_reported_as_popen_reports_them(probe):
    process = launcher.popen([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"],
                             stdout=subprocess.PIPE)
    assert isinstance(process, launcher.LaunchedPopen)
    assert process.stdout.readline() == b"up\n" and process.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(0.2)
    os.kill(process.pid, signal.SIGTERM)  # by pid, as the tests kill process trees
    assert process.wait(30) == -signal.SIGTERM
    process.stdout.close()


def test_an_exited_process_stays_a_zombie_until_its_caller_has_its_status():
    """As with a Popen parent: until then its pid is not reused, so signalling it is safe."""
    process = launcher.popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while stat(process.pid)[0] != "Z":
        assert time.monotonic() < deadline, stat(process.pid)
        time.sleep(0.05)
    assert process.wait(30) == 0
    while os.path.exists(f"/proc/{process.pid}"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_what_it_cannot_reproduce_runs_plainly(tmp_path):
    (tmp_path / "redis.py").write_text("")  # would shadow the preloaded redis for a fresh interpreter
    for args, kwargs in [
        ([sys.executable, "-X", "dev", "-c", "pass"], {}),
        ([sys.executable, "-c", "pass"], {"env": {**os.environ, "PYTHONHASHSEED": "7"}}),
        ([sys.executable, "-c", "pass"], {"preexec_fn": os.getpid}),
        ([sys.executable, "-c", "pass"], {"cwd": tmp_path}),
        ([sys.executable, "-c", "pass"], {"env": {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}}),
        (["true"], {}),
    ]:
        process = launcher.popen(args, **kwargs)
        assert type(process) is subprocess.Popen, args
        assert process.wait(30) == 0


def test_our_package_is_preloaded_and_its_own_checkout_does_not_count_as_a_second_copy(tmp_path):
    import flask_maventa

    checkout = Path(flask_maventa.__file__).resolve().parents[1]
    copy = tmp_path / "flask_maventa"
    copy.mkdir()  # another flask_maventa first on the path: a fresh interpreter imports that one
    (copy / "__init__.py").write_text("")
    probe = "import sys, flask_maventa; print('flask_maventa.cli' in sys.modules, flask_maventa.__file__)"
    for cwd, launched in ((checkout, True), (tmp_path, False)):
        process = launcher.popen([sys.executable, "-c", probe], cwd=cwd, stdout=subprocess.PIPE, text=True)
        assert (type(process) is launcher.LaunchedPopen) is launched, cwd
        out, _ = process.communicate(timeout=60)
        preloaded, imported = out.split()
        assert process.returncode == 0 and preloaded == str(launched), out
        assert Path(imported).resolve() == cwd / "flask_maventa" / "__init__.py", out
