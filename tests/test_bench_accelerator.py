"""experiments/bench_accelerator.py: the budgeted row runner, the search hook and a --quick run."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest

from experiments import bench_accelerator as ba
from keisei_jax.config import validate

ROOT = Path(__file__).resolve().parents[1]


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _row(clock, series, lanes, wall, *, call=1.0, runs=3, log=None, error=None):
    """A row that takes ``wall`` fake seconds: fixed part wall - runs * call, ``runs`` calls."""

    def measure():
        if log is not None:
            log.append((series, lanes))
        clock.now += wall
        if error is not None:
            raise error
        return ba.Measured(f"{series} {lanes}", first_call_s=wall - (runs - 1) * call,
                           call_s=call, runs=runs)

    return ba.Row("g", series, f"{series} setting", lanes, measure, lambda call_s: runs)


def test_estimate_keeps_the_fixed_part_and_scales_the_calls():
    clock = FakeClock()
    small = _row(clock, "s", 100, wall=10.0, call=1.0, runs=3)  # 7 s fixed + 3 x 1 s
    done = [ba.Done(small, small.measure(), wall_s=10.0)]
    assert ba.estimate_cost(_row(clock, "s", 400, 0.0, runs=3), done) == pytest.approx(7 + 3 * 4)
    # First row of another series: the dearest measured row so far.
    assert ba.estimate_cost(_row(clock, "t", 8, 0.0), done) == 10.0
    assert ba.estimate_cost(_row(clock, "t", 8, 0.0), []) == 0.0


def test_rows_past_the_budget_are_skipped_with_a_note_and_cheaper_series_still_run():
    clock, log = FakeClock(), []
    rows = [
        _row(clock, "a", 100, wall=10.0, log=log),   # runs (nothing known yet)
        _row(clock, "a", 200, wall=13.0, log=log),   # estimated 7 + 3 x 2 = 13 <= 40: runs
        _row(clock, "a", 800, wall=0.0, log=log),    # from the 200 row: 10 + 3 x 4 = 22 > 17
        _row(clock, "a", 1600, wall=0.0, log=log),   # larger row of a skipped series: skipped
        ba.Row("g", "b", "b setting", None, lambda: ba.Measured("never run"),
               unavailable="search benchmark not available (bench_search.py not found)"),
    ]
    seen = []
    done = ba.run_rows(rows, budget_s=40.0, clock=clock, on_done=seen.append)
    assert log == [("a", 100), ("a", 200)]
    assert seen == done and [d.measured is not None for d in done] == [True, True, False,
                                                                        False, False]
    assert done[2].note == "skipped: ~22 s estimated, 17 s of the 40 s budget left"
    assert done[3].note == done[2].note
    assert done[4].note.startswith(ba.SEARCH_UNAVAILABLE)
    assert [d.wall_s for d in done[:2]] == [10.0, 13.0]


def test_the_budget_counts_from_started():
    clock = FakeClock()
    clock.now = 30.0  # 30 s went to set-up before the rows
    done = ba.run_rows([_row(clock, "a", 100, wall=5.0)], budget_s=40.0, clock=clock,
                       started=0.0)
    assert done[0].measured is not None
    done = ba.run_rows([_row(clock, "a", 100, wall=5.0), _row(clock, "a", 100, wall=5.0)],
                       budget_s=40.0, clock=clock, started=0.0)
    assert done[1].note == "skipped: ~5 s estimated, 0 s of the 40 s budget left"


def test_a_device_error_is_a_note_and_stops_its_series_only():
    clock, log = FakeClock(), []
    oom = jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory allocating 9 GB")
    rows = [_row(clock, "a", 100, wall=1.0, log=log, error=oom),
            _row(clock, "a", 200, wall=1.0, log=log),
            _row(clock, "b", 100, wall=1.0, log=log)]
    done = ba.run_rows(rows, budget_s=100.0, clock=clock)
    assert log == [("a", 100), ("b", 100)]
    assert done[0].note == "out of device memory: RESOURCE_EXHAUSTED: Out of memory allocating 9 GB"
    assert done[1].note == "skipped: a smaller row ran out of device memory"
    assert done[2].measured is not None
    assert "out of device memory" in ba.table_row(done[0])


def _sizes():
    return ba.QUICK


def test_search_hook_missing_file_or_function_is_a_note(tmp_path):
    fn, why = ba.load_search_measure(tmp_path / "bench_search.py")
    assert fn is None and why == f"{ba.SEARCH_UNAVAILABLE} (bench_search.py not found)"
    (tmp_path / "bench_search.py").write_text("def other():\n    return {}\n")
    fn, why = ba.load_search_measure(tmp_path / "bench_search.py")
    assert fn is None
    assert why == f"{ba.SEARCH_UNAVAILABLE} (bench_search.py has no measure function)"
    (tmp_path / "bench_search.py").write_text("import no_such_search_library\n")
    fn, why = ba.load_search_measure(tmp_path / "bench_search.py")
    assert fn is None and "no_such_search_library" in why
    rows = ba.plan_rows(_sizes(), ["search"], shares=False,
                        search_file=tmp_path / "missing.py")
    done = ba.run_rows(rows, budget_s=60.0)
    assert len(done) == 1 and done[0].measured is None
    assert ba.SEARCH_UNAVAILABLE in ba.table_row(done[0])


def test_search_hook_rows_call_measure_with_the_contract(tmp_path):
    (tmp_path / "bench_search.py").write_text(
        "CALLS = []\n"
        "def measure(*, lanes, simulations, preset):\n"
        "    CALLS.append((lanes, simulations, preset))\n"
        "    return {'sims_per_sec': 1000.0 * lanes, 'moves_per_sec': 2.5 * lanes,\n"
        "            'first_call_s': 1.5}\n")
    rows = ba.plan_rows(_sizes(), ["search"], shares=False,
                        search_file=tmp_path / "bench_search.py")
    done = ba.run_rows(rows, budget_s=60.0)
    (preset, lanes_list), = ba.QUICK.search
    assert [d.row.lanes for d in done] == list(lanes_list)
    assert done[0].measured.result == f"{1000 * lanes_list[0]:,.0f} simulations/s, " \
                                      f"{2.5 * lanes_list[0]:,.0f} moves/s"
    assert done[0].measured.first_call_s == 1.5
    assert f"| search | search, {preset}, {ba.QUICK.search_simulations} simulations" \
           in ba.table_row(done[0])


def test_search_hook_result_without_the_keys_names_them(tmp_path):
    (tmp_path / "bench_search.py").write_text(
        "def measure(*, lanes, simulations, preset):\n    return {'sims': 1.0}\n")
    rows = ba.plan_rows(_sizes(), ["search"], shares=False,
                        search_file=tmp_path / "bench_search.py")
    with pytest.raises(ValueError, match=r"returned keys \['sims'\].*missing \['moves_per_sec', "
                                         r"'sims_per_sec'\]"):
        rows[0].measure()


@pytest.mark.parametrize("sizes", [ba.FULL, ba.QUICK], ids=["full", "quick"])
def test_every_training_row_is_a_valid_config(sizes):
    # A bad shape should fail here, not minutes into a run on a borrowed accelerator.
    for preset, lanes_list in sizes.train:
        for lanes in lanes_list:
            cfg = validate(ba.train_config(preset, lanes, sizes))
            assert cfg.model.dtype == ("bfloat16" if preset == "keisei" else "float32")
    assert [r.lanes for r in ba.engine_rows(ba.FULL)] == [4096, 16384, 65536]


@pytest.mark.parametrize("argv, message", [
    (["--groups", "engine,bogus"], "--groups 'engine,bogus'"),
    (["--budget-minutes", "0"], "--budget-minutes must be > 0, got 0.0"),
    (["--out", "/no/such/dir/t.md"], "directory '/no/such/dir' does not exist"),
])
def test_bad_flags_name_the_value(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        ba.main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


# What a GPU image may lack; the benchmark must run without any of them.
_BLOCKED = ["orbax", "orbax.checkpoint", "tensorboardX", "tensorboard", "pgx", "cshogi",
            "torch", "tensorflow"]


def test_quick_run_prints_the_table_with_every_planned_row(tmp_path):
    out = tmp_path / "bench.md"
    # 18 s: the first rows run; on a busy 2-core CPU the dearer ones are skipped with their
    # estimate, which the table must say as clearly as a measurement
    argv = ["experiments/bench_accelerator.py", "--quick", "--budget-minutes", "0.3",
            "--out", str(out)]
    code = (f"import runpy, sys; sys.modules.update(dict.fromkeys({_BLOCKED!r}));"
            f"sys.argv = {argv!r}; runpy.run_path(sys.argv[0], run_name='__main__')")
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu",
               JAX_COMPILATION_CACHE_DIR=os.environ.get(
                   "JAX_COMPILATION_CACHE_DIR", str(ROOT / ".jax_cache")))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("|")]
    assert lines == out.read_text().splitlines()
    assert "\n".join(lines[:2]) == ba.HEADER
    assert lines[2].startswith("| device | cpu (cpu), ") and f"jax {jax.__version__}" in lines[2]
    body = lines[3:-1]
    planned = ba.plan_rows(ba.QUICK, list(ba.GROUPS), shares=False)
    assert len(body) == len(planned)
    for line, row in zip(body, planned, strict=True):
        assert line.startswith(f"| {row.group} | {row.setting} | "), line
    # The first row runs whatever the budget; each later one is measured or says why not.
    assert "lane-steps/s" in body[0]
    units = ("lane-steps/s", "env", "MB/lane,", "simulations/s,")
    for line in body[1:]:
        result = [c.strip() for c in line.strip("|").split("|")][3]
        assert (result.startswith(("skipped: ", ba.SEARCH_UNAVAILABLE))
                or result.split()[1] in units), line
    assert lines[-1].startswith("| total | | - | ")
