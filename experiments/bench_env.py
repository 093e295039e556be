"""Rules-engine throughput: random legal play with auto-reset inside one jitted lax.scan.

Prints a table per batch size: lane-steps per second, first-call (compile) seconds, peak RSS and
bytes per game; ``--compare-pgx`` runs pgx's shogi the same way (same scan, same auto-reset, a
uniform sampler over its mask) and prints the ratio. Each configuration runs in its own process
so that its peak RSS and compile time are its own.

    python experiments/bench_env.py [--batch-sizes 1,64,256,1024,4096] [--compare-pgx]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ENGINES = ("keisei", "pgx")


def measure(engine: str = "keisei", *, batch: int, scan_len: int, min_seconds: float) -> dict:
    """Random legal play on ``batch`` lanes, ``scan_len`` steps per jitted call, in this process.

    Returns ``steps_per_sec`` (lane-steps per second over at least ``min_seconds`` of timed calls,
    the first call excluded), ``first_call_s`` (compilation + one call), ``call_s`` (seconds per
    timed call), ``timed_calls``, ``peak_rss_mb`` (this process's peak so far), ``bytes_per_game``
    and ``device`` (the platform). The CLI runs each row in a fresh process with the persistent
    compilation cache off; a caller in-process keeps its own cache setting.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")
    import jax
    import jax.numpy as jnp

    if engine == "keisei":
        from keisei_jax import env, shogi

        state = env.init_batch(batch)

        def run(state, key):
            return env.random_rollout(state, key, scan_len)

        bytes_per_game = shogi.state_nbytes(shogi.init())
    else:
        import numpy as np
        import pgx

        game = pgx.make("shogi")
        init = jax.vmap(game.init)
        step = jax.vmap(game.step)
        state = init(jax.random.split(jax.random.PRNGKey(0), batch))

        @jax.jit
        def run(state, key):
            def body(s, k):
                k_act, k_reset = jax.random.split(k)
                # Uniform over legal actions: random priorities, argmax over the legal ones.
                prio = jax.random.uniform(k_act, s.legal_action_mask.shape)
                action = jnp.argmax(jnp.where(s.legal_action_mask, prio, -1.0), axis=-1)
                s = step(s, action)
                done = s.terminated | s.truncated
                fresh = init(jax.random.split(k_reset, batch))
                s = jax.tree_util.tree_map(
                    lambda a, b: jnp.where(done.reshape(done.shape + (1,) * (a.ndim - 1)), a, b),
                    fresh,
                    s,
                )
                return s, None

            return jax.lax.scan(body, state, jax.random.split(key, scan_len))[0], None

        one = jax.tree_util.tree_map(lambda x: x[0], state)
        bytes_per_game = sum(int(np.asarray(x).nbytes) for x in jax.tree_util.tree_leaves(one))

    key = jax.random.PRNGKey(1)
    t0 = time.perf_counter()
    state, _ = run(state, key)
    jax.block_until_ready(state)
    first_call = time.perf_counter() - t0
    steps, elapsed, calls = 0, 0.0, 0
    while elapsed < min_seconds or calls == 0:
        key, sub = jax.random.split(key)
        t0 = time.perf_counter()
        state, _ = run(state, sub)
        jax.block_until_ready(state)
        elapsed += time.perf_counter() - t0
        steps += batch * scan_len
        calls += 1
    return {
        "engine": engine,
        "batch": batch,
        "steps_per_sec": steps / elapsed,
        "first_call_s": first_call,
        "call_s": elapsed / calls,
        "timed_calls": calls,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "bytes_per_game": bytes_per_game,
        "device": str(jax.devices()[0].platform),
    }


def _run_worker(engine: str, batch: int, args) -> dict:
    scan_len = args.scan_len if engine == "keisei" else max(1, args.scan_len // 8)
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        engine,
        "--batch-sizes",
        str(batch),
        "--scan-len",
        str(scan_len),
        "--min-seconds",
        str(args.min_seconds),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{engine} batch {batch} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-sizes", default="1,64,256,1024,4096")
    parser.add_argument("--scan-len", type=int, default=64, help="steps per jitted call")
    parser.add_argument("--min-seconds", type=float, default=3.0, help="timed seconds per row")
    parser.add_argument("--compare-pgx", action="store_true", help="also run pgx 2.6's shogi")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    batches = [int(b) for b in args.batch_sizes.split(",")]
    if args.worker:
        import jax

        jax.config.update("jax_enable_compilation_cache", False)  # honest first-call times
        print(json.dumps(measure(args.worker, batch=batches[0], scan_len=args.scan_len,
                                 min_seconds=args.min_seconds)))
        return 0

    rows = []
    header = (
        f"{'batch':>6} {'keisei steps/s':>15} {'compile s':>10} {'peak RSS MB':>12} {'B/game':>7}"
    )
    if args.compare_pgx:
        header += f" {'pgx steps/s':>12} {'pgx compile s':>14} {'pgx B/game':>11} {'ratio':>7}"
    lines = []
    for batch in batches:
        ours = _run_worker("keisei", batch, args)
        line = (
            f"{batch:>6} {ours['steps_per_sec']:>15,.0f} {ours['first_call_s']:>10.1f} "
            f"{ours['peak_rss_mb']:>12,.0f} {ours['bytes_per_game']:>7,}"
        )
        row = {"keisei": ours}
        if args.compare_pgx:
            theirs = _run_worker("pgx", batch, args)
            ratio = ours["steps_per_sec"] / theirs["steps_per_sec"]
            line += (
                f" {theirs['steps_per_sec']:>12,.0f} {theirs['first_call_s']:>14.1f} "
                f"{theirs['bytes_per_game']:>11,} {ratio:>6.1f}x"
            )
            row["pgx"] = theirs
        rows.append(row)
        lines.append(line)
        print(
            line
            if len(lines) > 1
            else f"device: {ours['device']}, {os.cpu_count()} cores\n{header}\n{line}",
            flush=True,
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
