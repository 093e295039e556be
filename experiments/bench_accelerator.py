"""One command for a machine's figures, printed as one markdown table: the rules engine at 4,096 /
16,384 / 65,536 lanes, the whole training loop of ``small`` and ``keisei`` (bf16) at 4,096 and
16,384 lanes, the search benchmark (when ``experiments/bench_search.py`` provides it) and the
memory plan, within a wall-time budget that includes the compilations.

    PYTHONPATH=. python experiments/bench_accelerator.py                   # 8 minutes at most
    PYTHONPATH=. python experiments/bench_accelerator.py --budget-minutes 4 --out bench.md
    PYTHONPATH=. python experiments/bench_accelerator.py --quick           # CPU smoke test

It uses the JAX already installed (nothing is installed or downloaded) and imports only jax, flax,
optax, numpy and this repository; the measurements are bench_env.py's, bench_train.py's and
memory_plan.py's functions, run in this process on one device. Groups run in the order of
``--groups``, the rows of a series smallest first. Before each row the clock is checked: a row whose
estimated cost (from the previous row of its series, scaled to its lanes; for the first row of a
series, the dearest row so far) would overrun the budget is skipped with a note, and so are the
larger rows of its series. A device error (out of memory, ...) is a note in its row, not the end of
the run. First-call seconds include the compilation, or a persistent-cache load when
``JAX_COMPILATION_CACHE_DIR`` is set (the table says which).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import jax

from experiments import bench_env, bench_train, memory_plan
from keisei_jax.config import TrainConfig
from keisei_jax.models import PRESETS

GROUPS = ("engine", "train", "search", "memory")
SEARCH_FILE = Path(__file__).absolute().with_name("bench_search.py")
SEARCH_UNAVAILABLE = "search benchmark not available"
PLAN_MINIBATCH = 4096  # minibatch assumed for the memory plan's largest-lanes figure


@dataclasses.dataclass(frozen=True)
class Measured:
    """What one row's measurement returns.

    ``result`` is the figure with its unit; ``first_call_s`` compilation + the first call;
    ``call_s`` seconds per call once compiled and ``runs`` the calls made in all (the first one
    included), both NaN / 0 where the measurement does not say.
    """

    result: str
    first_call_s: float = math.nan
    call_s: float = math.nan
    runs: int = 0


@dataclasses.dataclass(frozen=True)
class Row:
    """One planned measurement. Rows of one ``series`` grow in ``lanes``; ``runs_at(call_s)``
    says how many calls the row makes when one call takes ``call_s`` seconds (None: the row's
    cost is taken as the previous row's wall time, scaled by the lanes)."""

    group: str
    series: str
    setting: str
    lanes: int | None
    measure: Callable[[], Measured]
    runs_at: Callable[[float], int] | None = None
    unavailable: str = ""  # set: the row is not run and this is its note


@dataclasses.dataclass(frozen=True)
class Done:
    """A row after its turn: ``measured`` is None when it was skipped or failed (see ``note``)."""

    row: Row
    measured: Measured | None
    note: str = ""
    wall_s: float = 0.0


def estimate_cost(row: Row, done: Sequence[Done]) -> float:
    """Estimated wall seconds of ``row``: from the last measured row of its series (its fixed
    part, compilation and set-up, kept; its per-call time scaled by the lanes ratio), else the
    dearest measured row so far, else 0 (nothing known yet)."""
    measured = [d for d in done if d.measured is not None]
    same = [d for d in measured if d.row.series == row.series]
    if not same:
        return max((d.wall_s for d in measured), default=0.0)
    prev = same[-1]
    scale = (row.lanes / prev.row.lanes) if row.lanes and prev.row.lanes else 1.0
    m = prev.measured
    if row.runs_at is None or not math.isfinite(m.call_s) or m.runs < 1:
        return prev.wall_s * scale
    fixed = max(0.0, prev.wall_s - m.runs * m.call_s)
    call = m.call_s * scale
    return fixed + row.runs_at(call) * call


def run_rows(rows: Sequence[Row], *, budget_s: float, clock: Callable[[], float] = time.monotonic,
             started: float | None = None,
             on_done: Callable[[Done], None] = lambda d: None) -> list[Done]:
    """Run ``rows`` in order within ``budget_s`` seconds from ``started`` (a ``clock()`` time;
    default now); see the module docstring."""
    start = clock() if started is None else started
    done: list[Done] = []
    stopped: dict[str, str] = {}  # series -> why its larger rows are skipped
    for row in rows:
        if row.unavailable:
            done.append(Done(row, None, row.unavailable))
        elif row.series in stopped:
            done.append(Done(row, None, stopped[row.series]))
        else:
            left = budget_s - (clock() - start)
            cost = estimate_cost(row, done)
            if cost > left:
                note = (f"skipped: ~{cost:.0f} s estimated, {max(left, 0.0):.0f} s of the "
                        f"{budget_s:.0f} s budget left")
                stopped[row.series] = note
                done.append(Done(row, None, note))
            else:
                t0 = clock()
                try:
                    measured, note = row.measure(), ""
                except jax.errors.JaxRuntimeError as e:
                    first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
                    oom = "RESOURCE_EXHAUSTED" in str(e)
                    measured = None
                    note = f"{'out of device memory' if oom else 'failed'}: {first}"
                    stopped[row.series] = ("skipped: a smaller row ran out of device memory"
                                           if oom else "skipped: a smaller row failed")
                done.append(Done(row, measured, note, clock() - t0))
        on_done(done[-1])
    return done


# --- the rows ------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Sizes:
    """Shapes of one run of the benchmark (``full`` on an accelerator, ``quick`` for a CPU)."""

    engine_lanes: tuple[int, ...]
    engine_scan_len: int
    engine_min_seconds: float
    train: tuple[tuple[str, tuple[int, ...]], ...]  # (preset, lanes)
    train_rollout_len: int
    train_epochs: int
    train_minibatch: int
    train_repeats: int
    search: tuple[tuple[str, tuple[int, ...]], ...]  # (preset, lanes)
    search_simulations: int
    memory_presets: tuple[str, ...]
    memory_fit: tuple[int, int, int]  # lanes, minibatch, rollout_len of memory_plan.plan


FULL = Sizes(
    engine_lanes=(4096, 16384, 65536), engine_scan_len=64, engine_min_seconds=3.0,
    train=(("small", (4096, 16384)), ("keisei", (4096, 16384))),
    train_rollout_len=16, train_epochs=4, train_minibatch=4096, train_repeats=2,
    search=(("small", (256, 1024)), ("keisei", (256,))), search_simulations=32,
    memory_presets=("small", "keisei"), memory_fit=(8, 64, 32),
)
QUICK = Sizes(
    engine_lanes=(64, 256), engine_scan_len=8, engine_min_seconds=0.5,
    train=(("small", (16,)),),
    train_rollout_len=4, train_epochs=1, train_minibatch=32, train_repeats=1,
    search=(("small", (4,)),), search_simulations=4,
    memory_presets=("small",), memory_fit=(2, 8, 4),
)


def train_config(preset: str, lanes: int, sizes: Sizes) -> TrainConfig:
    """The accelerator shape of a run (``keisei`` in bf16 as in experiments/configs/keisei.py);
    the minibatch is capped at one iteration's transitions."""
    dtype = "bfloat16" if preset == "keisei" else "float32"
    steps = lanes * sizes.train_rollout_len
    return TrainConfig(
        num_envs=lanes, rollout_len=sizes.train_rollout_len, num_epochs=sizes.train_epochs,
        minibatch_size=min(sizes.train_minibatch, steps), material_shaping=0.01,
        model=dataclasses.replace(PRESETS[preset], dtype=dtype),
    )


def engine_rows(sizes: Sizes) -> list[Row]:
    def measure(lanes: int) -> Measured:
        r = bench_env.measure("keisei", batch=lanes, scan_len=sizes.engine_scan_len,
                              min_seconds=sizes.engine_min_seconds)
        return Measured(f"{r['steps_per_sec']:,.0f} lane-steps/s", r["first_call_s"],
                        r["call_s"], 1 + r["timed_calls"])

    def runs_at(call_s: float) -> int:
        return 1 + max(1, math.ceil(sizes.engine_min_seconds / call_s))

    setting = f"rules engine, random play, {sizes.engine_scan_len} steps a call"
    return [Row("engine", "engine", setting, n, lambda n=n: measure(n), runs_at)
            for n in sizes.engine_lanes]


def train_rows(sizes: Sizes, *, shares: bool) -> list[Row]:
    def measure(preset: str, lanes: int) -> Measured:
        r = bench_train.bench(train_config(preset, lanes, sizes), sizes.train_repeats,
                              shares=shares)
        text = f"{r['steps_per_sec']:,.0f} env steps/s"
        if shares:
            text += (f" (engine {100 * r['engine']:.0f}%, network {100 * r['network']:.0f}%, "
                     f"update {100 * r['update']:.0f}%)")
        return Measured(text, r["first_call_s"], r["call_s"], sizes.train_repeats + 2)

    rows = []
    for preset, lanes_list in sizes.train:
        for lanes in lanes_list:
            cfg = train_config(preset, lanes, sizes)
            setting = (f"training loop, {preset} {cfg.model.dtype}, {cfg.rollout_len} steps, "
                       f"epochs x minibatch {cfg.num_epochs} x {cfg.minibatch_size:,}")
            rows.append(Row("train", f"train {preset}", setting, lanes,
                            lambda p=preset, n=lanes: measure(p, n),
                            lambda call_s: sizes.train_repeats + 2))
    return rows


def load_search_measure(path: Path = SEARCH_FILE) -> tuple[Callable[..., dict] | None, str]:
    """``measure`` of experiments/bench_search.py, or None and why it is not available.

    The hook's contract (written by the search benchmark, called here once per row)::

        measure(*, lanes: int, simulations: int, preset: str) -> dict

    runs the search on ``lanes`` positions at once, ``simulations`` simulations per move, with
    the network of ``models.PRESETS[preset]``, in this process, and returns at least
    ``sims_per_sec`` (simulations per second, all lanes together) and ``moves_per_sec`` (searched
    moves per second); optionally ``first_call_s`` (compilation + first call).
    """
    if not path.exists():
        return None, f"{SEARCH_UNAVAILABLE} ({path.name} not found)"
    spec = importlib.util.spec_from_file_location("experiments.bench_search", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as e:  # e.g. a search library this machine lacks
        return None, f"{SEARCH_UNAVAILABLE} ({path.name}: {e})"
    fn = getattr(module, "measure", None)
    if not callable(fn):
        return None, f"{SEARCH_UNAVAILABLE} ({path.name} has no measure function)"
    return fn, ""


def search_rows(sizes: Sizes, measure_fn: Callable[..., dict] | None, why: str) -> list[Row]:
    def measure(preset: str, lanes: int) -> Measured:
        r = measure_fn(lanes=lanes, simulations=sizes.search_simulations, preset=preset)
        missing = {"sims_per_sec", "moves_per_sec"} - set(r)
        if missing:
            raise ValueError(f"bench_search.measure returned keys {sorted(r)}; expected "
                             f"sims_per_sec and moves_per_sec (missing {sorted(missing)})")
        return Measured(f"{r['sims_per_sec']:,.0f} simulations/s, "
                        f"{r['moves_per_sec']:,.0f} moves/s",
                        float(r.get("first_call_s", math.nan)))

    if measure_fn is None:
        return [Row("search", "search", "search (experiments/bench_search.py)", None,
                    lambda: Measured(why), unavailable=why)]
    return [Row("search", f"search {preset}",
                f"search, {preset}, {sizes.search_simulations} simulations a move", lanes,
                lambda p=preset, n=lanes: measure(p, n))
            for preset, lanes_list in sizes.search for lanes in lanes_list]


def device_memory_bytes() -> int | None:
    """The first device's memory (``bytes_limit``), or None where JAX does not say (CPU)."""
    stats = jax.devices()[0].memory_stats()
    return int(stats["bytes_limit"]) if stats and "bytes_limit" in stats else None


def memory_rows(sizes: Sizes) -> list[Row]:
    lanes, fit_minibatch, rollout_len = sizes.memory_fit

    def measure(preset: str) -> Measured:
        t0 = time.perf_counter()
        p = memory_plan.plan(preset, lanes=lanes, fit_minibatch=fit_minibatch,
                             rollout_len=rollout_len)
        m = p.model
        limit = device_memory_bytes()
        if limit is not None:
            fits = (f"max lanes at minibatch {PLAN_MINIBATCH:,} on this device "
                    f"({limit / 1e9:.0f} GB): "
                    f"{memory_plan.largest_lanes(m, limit / 1e9, PLAN_MINIBATCH):,}")
        else:
            fits = (f"max lanes at minibatch {PLAN_MINIBATCH:,} on "
                    + " / ".join(f"{g}" for g in memory_plan.DEVICE_GB) + " GB: "
                    + " / ".join(f"{memory_plan.largest_lanes(m, g, PLAN_MINIBATCH):,}"
                                 for g in memory_plan.DEVICE_GB))
        return Measured(
            f"{m.per_lane / 1e6:.2f} MB/lane, {m.per_transition / 1e6:.3f} MB/minibatch "
            f"transition, fixed {m.fixed / 1e6:.0f} MB (check {p.predicted_check_bytes / 1e6:.0f}"
            f" / {p.check_bytes / 1e6:.0f} MB); {fits}", time.perf_counter() - t0)

    return [Row("memory", "memory", f"memory plan, {preset} "
                f"{'bfloat16' if preset == 'keisei' else 'float32'}, rollout {rollout_len} "
                "(4 compiles, not run)", None, lambda p=preset: measure(p))
            for preset in sizes.memory_presets]


def plan_rows(sizes: Sizes, groups: Sequence[str], *, shares: bool,
              search_file: Path = SEARCH_FILE) -> list[Row]:
    rows = []
    for group in groups:
        if group == "engine":
            rows += engine_rows(sizes)
        elif group == "train":
            rows += train_rows(sizes, shares=shares)
        elif group == "search":
            rows += search_rows(sizes, *load_search_measure(search_file))
        elif group == "memory":
            rows += memory_rows(sizes)
        else:
            raise ValueError(f"unknown group {group!r}; expected some of {GROUPS}")
    return rows


# --- the table -----------------------------------------------------------------------------------

HEADER = ("| group | setting | lanes | result | first call s | wall s |\n"
          "|---|---|---:|---|---:|---:|")


def _seconds(x: float) -> str:
    return f"{x:.1f}" if math.isfinite(x) else "-"


def table_row(d: Done) -> str:
    lanes = f"{d.row.lanes:,}" if d.row.lanes else "-"
    if d.measured is None:
        return f"| {d.row.group} | {d.row.setting} | {lanes} | {d.note} | - | - |"
    return (f"| {d.row.group} | {d.row.setting} | {lanes} | {d.measured.result} | "
            f"{_seconds(d.measured.first_call_s)} | {d.wall_s:.1f} |")


def device_row(budget_s: float) -> str:
    import jaxlib

    dev = jax.devices()[0]
    limit = device_memory_bytes()
    memory = f", {limit / 1e9:.0f} GB" if limit is not None else ""
    cache = jax.config.jax_compilation_cache_dir
    return (f"| device | {dev.device_kind} ({dev.platform}{memory}), {jax.device_count()} "
            f"device(s), one used | - | jax {jax.__version__}, jaxlib {jaxlib.__version__}; "
            f"budget {budget_s / 60:g} min; persistent compilation cache "
            f"{'on' if cache else 'off'} | - | - |")


def total_row(done: Sequence[Done], wall_s: float) -> str:
    measured = sum(d.measured is not None for d in done)
    return (f"| total | | - | {measured} rows measured, {len(done) - measured} skipped or "
            f"failed | - | {wall_s:.1f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget-minutes", type=float, default=8.0,
                        help="wall-time budget, compilations included (default 8)")
    parser.add_argument("--quick", action="store_true",
                        help="small shapes for a CPU smoke test (64 / 256 lanes, tiny steps)")
    parser.add_argument("--groups", default=",".join(GROUPS),
                        help=f"comma-separated, run in this order (default {','.join(GROUPS)})")
    parser.add_argument("--train-shares", action="store_true",
                        help="also time the engine / network / update parts of each training "
                             "row (three more compiles per row)")
    parser.add_argument("--out", help="also write the table to this markdown file")
    args = parser.parse_args(argv)
    if not args.budget_minutes > 0:
        parser.error(f"--budget-minutes must be > 0, got {args.budget_minutes}")
    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    bad = [g for g in groups if g not in GROUPS]
    if bad or not groups:
        parser.error(f"--groups {args.groups!r}: expected a comma-separated subset of {GROUPS}")
    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.is_dir():
        parser.error(f"--out {args.out!r}: directory {str(out.parent)!r} does not exist")

    t0 = time.monotonic()
    budget_s = 60.0 * args.budget_minutes
    rows = plan_rows(QUICK if args.quick else FULL, groups, shares=args.train_shares)
    lines = [HEADER, device_row(budget_s)]
    print("\n".join(lines), flush=True)

    def emit(d: Done) -> None:
        lines.append(table_row(d))
        print(lines[-1], flush=True)

    done = run_rows(rows, budget_s=budget_s, started=t0, on_done=emit)
    lines.append(total_row(done, time.monotonic() - t0))
    print(lines[-1], flush=True)
    if out is not None:
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
