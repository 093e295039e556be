"""``train_and_evaluate(config, workdir)``: the Python driver around ``ppo.make_train``.

Between compiled calls it only writes metrics, evaluates against the random player (and, with
``eval_ladder_games``, against the greedy baseline and the learner's previous evaluated
parameters) and saves checkpoints. ``WORKDIR`` holds everything a run writes: ``config.json``,
``metrics.jsonl``, ``tensorboard/`` and ``checkpoints/``.

The loop runs over a device mesh (``keisei_jax.distributed``; by default every device of every
process): one device is the mesh of size one. With several processes each runs this driver; only
process 0 writes files and prints, all of them save and restore checkpoints together.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh

from keisei_jax import distributed
from keisei_jax.checkpoints import Checkpointer, CheckpointError
from keisei_jax.config import ConfigError, TrainConfig, validate
from keisei_jax.eval.periodic import evaluate_training
from keisei_jax.metrics import MetricsWriter, Progress
from keisei_jax.parallel.config import ParallelConfig
from keisei_jax.shogi.state import Termination

_EVAL_KEY_SALT = 0x5EED  # evaluation draws its own keys, so evaluating never perturbs training


def summarise(metrics: dict[str, np.ndarray], config: TrainConfig) -> dict[str, float]:
    """Reduce the per-iteration metrics of one compiled call to one record."""
    out: dict[str, float] = {}
    for name in ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction",
                 "grad_norm", "loss", "epochs_run", "shaping_coef", "mean_value", "mean_reward"):
        out[f"train/{name}"] = float(np.mean(metrics[name]))
    # The rate the next update uses, read from the optimizer's count inside the call.
    out["train/learning_rate"] = float(np.asarray(metrics["learning_rate"]).reshape(-1)[-1])
    out["train/nonfinite"] = int(np.bitwise_or.reduce(np.asarray(metrics["nonfinite"]).ravel()))
    games = float(np.sum(metrics["games"]))
    out["games/finished"] = games
    out["games/mean_length"] = float(np.sum(metrics["game_plies"]) / games) if games else 0.0
    terms = np.sum(metrics["terminations"], axis=0)
    for code, name in enumerate(Termination.NAMES):
        if code:
            out[f"games/share_{name}"] = float(terms[code] / games) if games else 0.0
    return out


def evaluation_record(result: Any, config: TrainConfig) -> dict[str, float]:
    n = config.eval_games
    out = {
        "eval/random/win_rate": int(result.wins) / n,
        "eval/random/draw_rate": int(result.draws) / n,
        "eval/random/loss_rate": int(result.losses) / n,
        "eval/random/games": n,
        "eval/random/mean_length": int(result.plies) / n,
    }
    terms = np.asarray(result.terminations)
    for code, name in enumerate(Termination.NAMES):
        if code:
            out[f"eval/random/share_{name}"] = float(terms[code] / n)
    return out


def train_and_evaluate(
    config: TrainConfig,
    workdir: str | Path,
    *,
    resume: bool = False,
    stop_at: int | None = None,
    quiet: bool = False,
    mesh: Mesh | None = None,
    parallel: ParallelConfig | None = None,
) -> dict[str, Any]:
    """Train (or resume) into ``workdir``; returns the last metrics record.

    ``stop_at`` ends this invocation after that many iterations (a multiple of
    ``iterations_per_call``) with a checkpoint, as if interrupted; ``resume`` continues it.

    Refuses to start a fresh run over an existing checkpoint directory (nothing is overwritten);
    ``resume`` restores the latest checkpoint and continues exactly where it stopped, on any
    mesh: a run saved on four devices resumes on one and the other way round.

    ``parallel`` (if enabled) plays self-play in worker processes (``keisei_jax.parallel``, the
    CPU fallback) feeding the same update; its health joins the metrics as ``parallel/*``.
    """
    config = validate(config)
    stop_at = config.total_iterations if stop_at is None else stop_at
    if stop_at % config.iterations_per_call or not 0 < stop_at <= config.total_iterations:
        raise ConfigError(
            f"bad value {stop_at!r} for 'stop_at': expected a multiple of iterations_per_call "
            f"= {config.iterations_per_call} in (0, total_iterations = {config.total_iterations}]"
        )
    workdir = Path(workdir)
    ckpt_dir = workdir / "checkpoints"
    if not resume and ckpt_dir.exists() and any(ckpt_dir.iterdir()):
        raise CheckpointError(
            f"{ckpt_dir} already holds checkpoints; pass --resume to continue that run or choose "
            "another --workdir (nothing was changed)"
        )
    if resume and not ckpt_dir.is_dir():
        raise CheckpointError(f"cannot resume: {ckpt_dir} does not exist (nothing was changed)")

    sharded = distributed.shard_trainer(config, distributed.make_mesh() if mesh is None else mesh)
    trainer = sharded.trainer
    train_call = sharded.train_call
    evaluate = jax.jit(trainer.evaluate)
    checkpointer = Checkpointer(ckpt_dir, keep=config.keep_checkpoints)
    runner = sharded.init(jax.random.PRNGKey(config.seed))
    start_iteration = 0
    if resume:
        runner, start_iteration = checkpointer.restore(runner, config)

    main = distributed.is_main_process()
    quiet = quiet or not main
    workdir.mkdir(parents=True, exist_ok=True)
    if main:
        (workdir / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    writer = MetricsWriter(workdir, tensorboard=config.tensorboard) if main else None
    out = Progress(config.total_iterations, start=start_iteration)
    if not quiet:
        out.message(
            f"{'resuming at' if resume else 'starting'} iteration {start_iteration}: "
            f"{config.num_envs} lanes x {config.rollout_len} steps per iteration on "
            f"{sharded.mesh.size} {jax.devices()[0].platform} device(s), "
            f"{config.total_iterations} iterations, workdir {workdir}"
        )
    record: dict[str, Any] = {}
    earlier_params = None  # the learner at the previous evaluation, its "earlier checkpoint"
    iteration = start_iteration
    t_start = time.monotonic()
    workers = contextlib.ExitStack()
    parallel_call = None
    try:
        if parallel is not None and parallel.enabled:
            if sharded.mesh.size != 1:
                raise ConfigError(
                    f"parallel.enabled needs one device, not a mesh of {sharded.mesh.size}"
                )
            from keisei_jax.parallel import ParallelTrainCall  # spawns processes: when asked

            parallel_call = workers.enter_context(ParallelTrainCall(trainer, parallel))
            train_call = parallel_call
        while iteration < stop_at:
            t0 = time.monotonic()
            runner, metrics = train_call(runner)
            metrics = jax.device_get(metrics)
            elapsed = time.monotonic() - t0
            iteration += config.iterations_per_call
            env_steps = iteration * config.steps_per_iteration
            record = summarise(metrics, config)
            if parallel_call is not None:
                record.update(parallel_call.health())
            record["iteration"] = iteration
            record["env_steps_per_sec"] = (
                config.iterations_per_call * config.steps_per_iteration / elapsed
            )
            record["time/call_seconds"] = elapsed
            record["time/wall_seconds"] = time.monotonic() - t_start
            last = iteration >= stop_at
            if config.eval_every and (iteration % config.eval_every == 0 or last):
                t_eval = time.monotonic()
                key = jax.random.fold_in(jax.random.PRNGKey(config.seed ^ _EVAL_KEY_SALT),
                                         iteration)
                record.update(evaluation_record(evaluate(runner.params, key), config))
                if config.eval_ladder_games:
                    record.update(evaluate_training(
                        trainer.model, runner.params, earlier_params, jax.random.fold_in(key, 1),
                        num_games=config.eval_ladder_games, max_plies=config.eval_max_plies,
                        # Sampled unless eval_greedy: two argmax players repeat one game per
                        # colour, so the ladder's games would be copies of each other.
                        temperature=0.0 if config.eval_greedy else 1.0,
                    ))
                    # A copy: the next train call donates (frees) the runner's buffers.
                    earlier_params = jax.tree_util.tree_map(lambda x: x.copy(), runner.params)
                record["time/eval_seconds"] = time.monotonic() - t_eval
            if writer is not None:
                writer.write(env_steps, record)
            if config.checkpoint_every and (iteration % config.checkpoint_every == 0 or last):
                checkpointer.save(iteration, runner, config)
            if not quiet:
                extra = f"games {record['games/finished']:.0f}"
                if "eval/random/win_rate" in record:
                    extra += f" | eval win {record['eval/random/win_rate']:.2f}"
                out.update(iteration, record["env_steps_per_sec"], extra)
    finally:
        workers.close()  # every worker stopped before the files close
        if writer is not None:
            writer.close()
        checkpointer.close()
    if not quiet:
        out.message("done")
    record["env_steps"] = iteration * config.steps_per_iteration
    return record
