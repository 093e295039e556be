"""Runs on emulated CPU devices for ``test_sharding.py``, in a subprocess of its own so the
device-count flag never reaches the rest of the suite:

    python -m tests.distributed.sharded_runs WORKDIR

prints one JSON line comparing a 4-device and a 1-device run of the same global batch, and runs
saved on one mesh and resumed on the other.
"""

from __future__ import annotations

import os
import sys

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
)

import json
from pathlib import Path

import jax
import numpy as np

from keisei_jax import distributed
from keisei_jax.checkpoints import Checkpointer
from keisei_jax.config import TrainConfig
from keisei_jax.models import ModelConfig
from keisei_jax.training import train_and_evaluate

# 8 lanes (2 per device), 2 epochs x 2 minibatches of 16. The value head is 8 channels wide: a
# LayerNorm over the default 2 channels divides by their difference, which turns the last-bit
# differences of a cross-device sum into gradient differences of several percent.
CONFIG = TrainConfig(
    model=ModelConfig(num_blocks=1, channels=8, se_ratio=0.0, policy_head="local",
                      value_channels=8), num_envs=8,
    rollout_len=4, max_plies=24, num_epochs=2, minibatch_size=16, material_shaping=0.01,
    total_iterations=2, iterations_per_call=1, eval_every=0, checkpoint_every=1,
    tensorboard=False,
    # The horizon the driver would fix (training.lr_horizon): the equivalence's trainers and the
    # driver's resumes are then one config, traced once per mesh (distributed.shard_trainer).
    lr_decay_iterations=2,
    # TrainConfig's defaults of before they became the default config's.
    lr=3e-4, gae_lambda=0.95, entropy_coef=0.01, check_bonus_pawns=0.0, shaping_anneal_frac=0.0,
    eval_greedy=True, eval_ladder_games=0,
)


def _max_diff(a, b) -> float:
    diffs = jax.tree_util.tree_map(
        lambda x, y: float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))))
        if np.size(x) else 0.0, a, b,
    )
    return max(jax.tree_util.tree_leaves(diffs))


def equivalence() -> tuple:
    """The final parameters of the 4- and 1-device runs, and how they compare."""
    runs = {}
    for n in (4, 1):
        sharded = distributed.shard_trainer(CONFIG, distributed.make_mesh(jax.devices()[:n]))
        runner = sharded.init(jax.random.PRNGKey(CONFIG.seed))
        metrics = []
        for _ in range(CONFIG.total_iterations):
            runner, m = sharded.train_call(runner)
            metrics.append(jax.device_get(m))
        lanes = {str(s.device.id) for s in runner.env_state.board.addressable_shards}
        runs[n] = (jax.device_get(runner), metrics, len(lanes))
    (r4, m4, d4), (r1, m1, d1) = runs[4], runs[1]
    return r4.params, r1.params, {
        "devices": [d4, d1],
        "param_diff": _max_diff(r4.params, r1.params),
        "param_scale": max(float(np.abs(x).max()) for x in jax.tree_util.tree_leaves(r1.params)),
        "env_state_equal": all(
            np.array_equal(x, y) for x, y in zip(jax.tree_util.tree_leaves(r4.env_state),
                                                 jax.tree_util.tree_leaves(r1.env_state),
                                                 strict=True)
        ),
        "loss": [[float(np.mean(m["loss"])) for m in ms] for ms in (m4, m1)],
        "grad_norm": [[float(np.mean(m["grad_norm"])) for m in ms] for ms in (m4, m1)],
    }


def _final_params(workdir: Path, mesh):
    template = distributed.shard_trainer(CONFIG, mesh).init(jax.random.PRNGKey(1))
    ck = Checkpointer(workdir / "checkpoints", keep=CONFIG.keep_checkpoints)
    try:
        runner, step = ck.restore(template, CONFIG)
    finally:
        ck.close()
    return jax.device_get(runner), step


def resume(base: Path, straight: dict) -> dict:
    """Runs cut after one iteration on one mesh and resumed on the other, against the straight
    runs of ``equivalence`` on the mesh they finished on (``train_and_evaluate`` starts from the
    same key: its straight runs would repeat those)."""
    four, one = distributed.make_mesh(), distributed.make_mesh(jax.devices()[:1])
    out = {}
    for name, first, second in (("4to1", four, one), ("1to4", one, four)):
        split = base / f"split_{name}"
        train_and_evaluate(CONFIG, split, stop_at=1, quiet=True, mesh=first)
        train_and_evaluate(CONFIG, split, resume=True, quiet=True, mesh=second)
        resumed, step = _final_params(split, one)
        out[name] = {"step": step, "diff": _max_diff(straight[second.size], resumed.params),
                     "iteration": int(resumed.iteration)}
    return out


if __name__ == "__main__":
    base = Path(sys.argv[1])
    params4, params1, compared = equivalence()
    result = {"equivalence": compared, "resume": resume(base, {4: params4, 1: params1})}
    print(json.dumps(result))
