"""Speed of the Gumbel MuZero search over the rules engine, and of gumbel_az training.

  python experiments/bench_search.py            # the README's table
  python experiments/bench_search.py --quick    # two small rows (smoke test)

Rows: simulations/s and moves/s of one jitted ``search.search`` call on ``lanes`` positions
taken from random play (40 plies in), with the share of the network in it (the same search
timed with a network-free prior, uniform logits and value 0: the rest is engine + tree), the
compiled temporary memory of the call, and for comparison the 13,527-action tree (every
action a slot). Then the env steps/s of one compiled ``gumbel_az`` training iteration against
PPO's at the same tower and lanes. ``measure`` is the function ``bench_accelerator.py`` calls.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import time

import jax
import jax.numpy as jnp

from keisei_jax import env, models, search, shogi
from keisei_jax.algos import make_train
from keisei_jax.config import TrainConfig, validate


def _time(fn, *args, repeats: int) -> tuple[float, float]:
    """(seconds per call after the first, seconds of the first call: compile + run)."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(repeats):
        jax.block_until_ready(fn(*args))
    return (time.perf_counter() - t0) / repeats, first


def _positions(lanes: int) -> shogi.State:
    state = env.init_batch(lanes)
    state, _ = env.random_rollout(state, jax.random.PRNGKey(1), 40)
    return state


def _flat(params, obs):
    del params
    return (jnp.zeros((obs.shape[0], shogi.NUM_ACTIONS), jnp.float32),
            jnp.zeros((obs.shape[0],), jnp.float32))


def measure(*, lanes: int, simulations: int, preset: str = "small", num_slots: int =
            search.MAX_LEGAL_MOVES, considered: int = 16, repeats: int = 3,
            dtype: str = "float32", mate_candidates: int = search.MATE_CANDIDATES) -> dict:
    """One search configuration: ``sims_per_sec``, ``moves_per_sec``, ``network_share``,
    ``ms_per_move_batch``, ``compile_s`` and ``temp_mb`` (XLA's temporary buffers)."""
    model = models.make_model(dataclasses.replace(models.PRESETS[preset], dtype=dtype))
    params = models.init_params(model, jax.random.PRNGKey(0))
    apply_fn = models.apply_fn(model)
    state = _positions(lanes)
    key = jax.random.PRNGKey(0)
    # Self-play's search: no root mate checks (a player's cost per move, not per simulation).
    settings = search.SearchSettings(num_simulations=simulations, considered_actions=considered,
                                     mate_candidates=mate_candidates, mate_threat_moves=0,
                                     mate_five_retries=0)
    kwargs = dict(settings=settings, num_slots=num_slots)
    real = jax.jit(functools.partial(search.search, apply_fn=apply_fn, **kwargs))
    flat = jax.jit(functools.partial(search.search, apply_fn=_flat, params=None, **kwargs))
    t_real, compile_s = _time(lambda s, k: real(params=params, state=s, key=k), state, key,
                              repeats=repeats)
    t_flat, _ = _time(lambda s, k: flat(state=s, key=k), state, key, repeats=repeats)
    memory = real.lower(params=params, state=state, key=key).compile().memory_analysis()
    temp = getattr(memory, "temp_size_in_bytes", 0) if memory is not None else 0
    return {
        "sims_per_sec": lanes * simulations / t_real,
        "moves_per_sec": lanes / t_real,
        "ms_per_move_batch": 1000 * t_real,
        "network_share": max(0.0, 1.0 - t_flat / t_real),
        "compile_s": compile_s,
        "temp_mb": temp / 2**20,
    }


def training_rate(algo: str, *, preset: str, lanes: int, steps: int, simulations: int,
                  repeats: int = 2) -> float:
    """Env steps/s of one compiled training iteration (self-play + targets + update)."""
    cfg = validate(TrainConfig(
        algo=algo, model=models.PRESETS[preset], num_envs=lanes, rollout_len=steps,
        num_epochs=2, minibatch_size=min(64, lanes * steps), search_simulations=simulations,
        total_iterations=1000, iterations_per_call=1, eval_every=0, checkpoint_every=0,
    ))
    trainer = make_train(cfg)
    runner = trainer.init(jax.random.PRNGKey(0))
    call = jax.jit(trainer.train_call)
    runner, _ = call(runner)  # leave the start position
    seconds, _ = _time(call, runner, repeats=repeats)
    return cfg.steps_per_iteration / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two small rows")
    parser.add_argument("--preset", default="small", choices=sorted(models.PRESETS))
    args = parser.parse_args(argv)
    mate = search.MATE_CANDIDATES
    if args.quick:
        rows = [(4, 8, search.MAX_LEGAL_MOVES, mate), (4, 8, shogi.NUM_ACTIONS, mate)]
        train_rows = [(8, 2, 4)]
    else:
        rows = [(lanes, sims, search.MAX_LEGAL_MOVES, mate)
                for lanes in (1, 16, 64) for sims in (16, 64)]
        # the mate-in-one detector's cost: the same searches without it
        rows += [(1, 64, search.MAX_LEGAL_MOVES, 0), (64, 16, search.MAX_LEGAL_MOVES, 0)]
        rows += [(16, 32, search.MAX_LEGAL_MOVES, mate), (16, 32, shogi.NUM_ACTIONS, mate)]
        train_rows = [(64, 8, 16)]
    print(f"device: {jax.devices()[0].device_kind} ({jax.devices()[0].platform}), "
          f"jax {jax.__version__}, preset {args.preset}")
    print("| lanes | simulations | slots | mate checks | sims/s | moves/s | ms per batch move "
          "| network | temp MB | compile s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for lanes, sims, slots, mate_checks in rows:
        r = measure(lanes=lanes, simulations=sims, preset=args.preset, num_slots=slots,
                    mate_candidates=mate_checks)
        print(f"| {lanes} | {sims} | {slots:,} | {mate_checks} | {r['sims_per_sec']:,.0f} | "
              f"{r['moves_per_sec']:,.1f} | {r['ms_per_move_batch']:,.0f} | "
              f"{100 * r['network_share']:.0f}% | {r['temp_mb']:,.1f} | "
              f"{r['compile_s']:.1f} |", flush=True)
    print()
    print("| algo | lanes x steps | simulations | env steps/s |")
    print("|---|---|---:|---:|")
    for lanes, steps, sims in train_rows:
        for algo in ("ppo", "gumbel_az"):
            rate = training_rate(algo, preset=args.preset, lanes=lanes, steps=steps,
                                 simulations=sims)
            print(f"| {algo} | {lanes} x {steps} | {sims if algo != 'ppo' else '-'} | "
                  f"{rate:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
