"""``KEISEI_COMPILE_PROFILE=DIR`` records each test's compile seconds by function and call site,
and ``python -m tests.compile_profile DIR`` sums them by module, test, function and site."""

import json
import os
import subprocess
import sys

from tests.paths import ROOT, pythonpath_with_root


def test_a_profiled_run_says_which_test_compiled_what(tmp_path):
    profile = tmp_path / "profile"
    test = "tests/shogi/test_tables.py::test_action_from_bitboards"
    env = {**os.environ, "KEISEI_COMPILE_PROFILE": str(profile),
           "PYTHONPATH": pythonpath_with_root()}
    env.pop("PYTEST_XDIST_WORKER", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert [p.name for p in profile.iterdir()] == ["main.jsonl"]
    summary = subprocess.run([sys.executable, "-m", "tests.compile_profile", str(profile)],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert summary.returncode == 0, summary.stderr
    lines = summary.stdout.splitlines()
    assert lines[0].endswith("s of tracing, lowering and compiling in all")
    assert [line for line in lines if line.startswith(f"| {test} |")]
    events = [json.loads(line) for line in (profile / "main.jsonl").read_text().splitlines()]
    assert any(e["test"] == test and e["s"] > 0 for e in events)
    assert any("backend_compile_duration" in line and "compiles)" in line for line in lines)
    # the test's eager call compiled its programs: the site names the line that asked
    compiled = [e for e in events if e["event"] == "backend_compile_duration"]
    assert compiled and all(e["site"].startswith(("tests/shogi/test_tables.py:",
                                                  "keisei_jax/")) for e in compiled)
    assert "| call site | seconds |" in lines
    assert [line for line in lines if line.startswith("| tests/shogi/test_tables.py:29 (")]
