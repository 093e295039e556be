"""Env steps/s of the whole compiled training loop (rollout + GAE + update) and the share of
time in the engine, the network forward pass of the rollout, and the PPO update.

  python experiments/bench_train.py                 # the table in the README
  python experiments/bench_train.py --quick         # one small row, for a smoke test

The loop is timed as ``train_call`` runs it. The shares come from timing the parts alone with
the same shapes: the engine (vmapped step + auto-reset under uniform random actions), the
rollout (engine + network + sampling; its excess over the engine is the network's share) and
the update (epochs x minibatches); they are normalised to sum to 100%.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import jax
import jax.numpy as jnp

from keisei_jax import env, models, shogi
from keisei_jax.config import TrainConfig, validate
from keisei_jax.ppo import make_train
from keisei_jax.ppo.loss import Batch, LossConfig, update
from keisei_jax.ppo.rollout import rollout


def _time(fn, *args, repeats: int) -> float:
    out = fn(*args)
    jax.block_until_ready(out)
    t0 = time.perf_counter()
    for _ in range(repeats):
        out = fn(*args)
        jax.block_until_ready(out)
    return (time.perf_counter() - t0) / repeats


def bench(cfg: TrainConfig, repeats: int, *, shares: bool = True) -> dict[str, float]:
    """Time one training iteration of ``cfg`` (``repeats`` timed calls after two untimed ones).

    Returns ``steps_per_sec`` (env steps per second of the whole compiled iteration),
    ``first_call_s`` (compilation + the first iteration), ``call_s`` (seconds per iteration) and,
    with ``shares``, the ``engine`` / ``network`` / ``update`` fractions of the time (three more
    compilations: the parts alone with the same shapes).
    """
    cfg = validate(dataclasses.replace(cfg, iterations_per_call=1, total_iterations=1000,
                                       eval_every=0, checkpoint_every=0))
    trainer = make_train(cfg)
    runner = trainer.init(jax.random.PRNGKey(0))
    start = shogi.init(max_plies=cfg.max_plies)
    steps = cfg.steps_per_iteration

    # Whole loop, as the driver runs it (the runner is not donated, so it can be reused).
    train_call = jax.jit(trainer.train_call)
    t0 = time.perf_counter()
    runner, _ = jax.block_until_ready(train_call(runner))  # leave the start position
    first_call = time.perf_counter() - t0
    t_loop = _time(train_call, runner, repeats=repeats)
    loop = {"steps_per_sec": steps / t_loop, "first_call_s": first_call, "call_s": t_loop}
    if not shares:
        return loop

    apply_fn = models.apply_fn(trainer.model)

    @jax.jit
    def engine_only(state, key):
        def body(s, k):
            a = env.sample_uniform_legal(s.legal_bits, jax.random.uniform(k, s.color.shape))
            s, _ = env.step_autoreset(s, a, start)
            return s, None

        return jax.lax.scan(body, state, jax.random.split(key, cfg.rollout_len))[0]

    @jax.jit
    def rollout_only(params, state, key):
        return rollout(apply_fn, params, state, start, key, num_steps=cfg.rollout_len,
                       material_coef=jnp.float32(cfg.material_shaping))

    key = jax.random.PRNGKey(1)
    t_engine = _time(engine_only, runner.env_state, key, repeats=repeats)
    t_rollout = _time(rollout_only, runner.params, runner.env_state, key, repeats=repeats)
    _, traj = rollout_only(runner.params, runner.env_state, key)

    flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731
    batch = Batch(obs=flat(traj.obs), legal_bits=flat(traj.legal_bits), action=flat(traj.action),
                  log_prob=flat(traj.log_prob), value=flat(traj.value),
                  advantage=flat(traj.reward), target=flat(traj.value),
                  weight=flat(traj.learn).astype(jnp.float32))
    import optax

    tx = optax.chain(optax.clip_by_global_norm(cfg.max_grad_norm), optax.adam(cfg.lr))
    loss_cfg = LossConfig(cfg.clip_eps, cfg.value_clip_eps, cfg.value_coef, cfg.entropy_coef)

    @jax.jit
    def update_only(params, opt_state, batch, key):
        return update(apply_fn, tx, params, opt_state, batch, key, cfg=loss_cfg,
                      num_epochs=cfg.num_epochs, minibatch_size=cfg.minibatch_size,
                      target_kl=0.0)

    t_update = _time(update_only, runner.params, tx.init(runner.params), batch, key,
                     repeats=repeats)
    parts = t_rollout + t_update
    return {
        **loop,
        "engine": t_engine / parts,
        "network": (t_rollout - t_engine) / parts,
        "update": t_update / parts,
    }


def rows(quick: bool):
    base = TrainConfig(num_epochs=4, minibatch_size=128, material_shaping=0.01)
    if quick:
        yield "small", 16, 8, dataclasses.replace(base, minibatch_size=64).with_model("small")
        return
    # Keisei's PyTorch reference: 4 x 64 ResNet, dense head, 512 steps, 4 epochs, minibatch 128.
    for lanes, length in ((64, 8), (256, 2)):
        yield "keisei_ref", lanes, length, base.with_model("keisei_ref")
    for lanes, length in ((64, 8), (256, 2)):
        yield "small", lanes, length, base.with_model("small")
    keisei = dataclasses.replace(base, minibatch_size=32).with_model("keisei")
    yield "keisei", 16, 4, keisei


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    dev = jax.devices()[0]
    print(f"device: {dev.platform} ({dev.device_kind}), {jax.device_count()} device(s)")
    print("| preset | lanes x steps | epochs x minibatch | env steps/s | engine | network "
          "(rollout) | update |")
    print("|---|---|---|---:|---:|---:|---:|")
    for name, lanes, length, cfg in rows(args.quick):
        cfg = dataclasses.replace(cfg, num_envs=lanes, rollout_len=length)
        r = bench(cfg, args.repeats)
        print(f"| {name} | {lanes} x {length} | {cfg.num_epochs} x {cfg.minibatch_size} | "
              f"{r['steps_per_sec']:.0f} | {100 * r['engine']:.0f}% | "
              f"{100 * r['network']:.0f}% | {100 * r['update']:.0f}% |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
