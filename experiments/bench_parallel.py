"""Env steps/s of the CPU-parallel path (1 and 2 self-play workers) against the single process.

For each worker count it starts the workers once, then measures
  * collection: segments gathered and thrown away (no update), so the rate is the workers' alone;
  * training: ``ParallelTrainCall`` iterations (collection overlapped with the PPO update).
The single-process row is the jitted ``train_call`` of the same config (rollout then update).
Compile time is excluded everywhere (a warm-up precedes each measurement).

  python experiments/bench_parallel.py                      # the README table (default config)
  python experiments/bench_parallel.py --model tiny --seconds 10   # quicker
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

import jax

from experiments import configs
from keisei_jax.config import ParallelConfig
from keisei_jax.parallel import ParallelTrainCall
from keisei_jax.ppo import make_train


def _timed(fn, seconds: float, steps_per_call: int) -> float:
    """Steps/s of ``fn`` repeated for at least ``seconds`` (after one warm-up call)."""
    fn()
    calls, t0 = 0, time.monotonic()
    while True:
        fn()
        calls += 1
        elapsed = time.monotonic() - t0
        if elapsed >= seconds:
            return calls * steps_per_call / elapsed


def bench_sequential(config, seconds: float) -> dict:
    trainer = make_train(dataclasses.replace(config, iterations_per_call=1))
    call = jax.jit(trainer.train_call, donate_argnums=0)
    box = [trainer.init(jax.random.PRNGKey(0))]

    def one():
        box[0], m = call(box[0])
        jax.block_until_ready(m)

    return {"path": "single process", "workers": 0,
            "train_steps_per_sec": _timed(one, seconds, config.steps_per_iteration)}


def bench_workers(config, num_workers: int, lanes: int, seconds: float) -> dict:
    par = ParallelConfig(enabled=True, num_workers=num_workers, lanes_per_worker=lanes)
    cfg = dataclasses.replace(config, num_envs=num_workers * lanes, iterations_per_call=1,
                              parallel=par)
    trainer = make_train(cfg)
    runner = trainer.init(jax.random.PRNGKey(0))
    with ParallelTrainCall(trainer) as call:
        t0 = time.monotonic()
        box = [call(runner)[0]]  # starts the workers, compiles everything
        startup = time.monotonic() - t0
        manager = call.manager

        def collect():
            manager.collect(num_workers, version=int(box[0].iteration))

        collect_rate = _timed(collect, seconds, cfg.steps_per_iteration)

        def train():
            box[0], m = call(box[0])

        train_rate = _timed(train, seconds, cfg.steps_per_iteration)
        health = call.health()
    if health["parallel/fell_back"]:
        raise RuntimeError(f"the workers failed during the benchmark: {call.fell_back}")
    return {"path": f"{num_workers} worker{'s' * (num_workers > 1)}", "workers": num_workers,
            "collect_steps_per_sec": collect_rate, "train_steps_per_sec": train_rate,
            "startup_seconds": startup,
            "dropped_stale": health["parallel/dropped_stale_segments"],
            "mean_policy_lag": health["parallel/mean_policy_lag"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="default", help=f"one of {configs.names()}")
    parser.add_argument("--model", default=None, help="model preset overriding the config's")
    parser.add_argument("--lanes", type=int, default=32, help="games per worker")
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement")
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args(argv)
    config = configs.get(args.config)
    if args.model:
        config = config.with_model(args.model)
    # Per-worker lanes fixed: the worker rows compare equal work per process.
    config = dataclasses.replace(config, num_envs=args.lanes * 2, tensorboard=False)
    rows = [bench_sequential(config, args.seconds)]
    for n in (int(x) for x in args.workers.split(",")):
        rows.append(bench_workers(config, n, args.lanes, args.seconds))
    print(f"# {args.config} config, model {args.model or 'of the config'}, {args.lanes} lanes per "
          f"worker x {config.rollout_len} steps per segment, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| path | collection steps/s | training steps/s | start-up s |")
    print("|---|---:|---:|---:|")
    for r in rows:
        collect = f"{r['collect_steps_per_sec']:.0f}" if "collect_steps_per_sec" in r else "-"
        start = f"{r['startup_seconds']:.0f}" if "startup_seconds" in r else "-"
        print(f"| {r['path']} | {collect} | {r['train_steps_per_sec']:.0f} | {start} |")
    one = next((r for r in rows if r["workers"] == 1), None)
    two = next((r for r in rows if r["workers"] == 2), None)
    if one and two:
        print(f"2 workers / 1 worker collection: "
              f"{two['collect_steps_per_sec'] / one['collect_steps_per_sec']:.2f}x")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
