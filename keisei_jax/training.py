"""``train_and_evaluate(config, workdir)``: the Python driver around ``ppo.make_train``.

Between compiled calls it only writes metrics, evaluates against the random player (and, with
``eval_ladder_games``, against the greedy baseline and the learner's previous evaluated
parameters) and saves checkpoints. ``WORKDIR`` holds everything a run writes: ``config.json``,
``metrics.jsonl``, ``tensorboard/`` and ``checkpoints/`` (and ``.lock``, held while it runs).

The driver reads as its steps: open the workdir (lock it; refuse an earlier run's files unless
resuming), build or restore the runner, then per compiled call: run it and make its record, stop
if anything went non-finite, evaluate, write the record, checkpoint; finish.

The loop runs over a device mesh (``keisei_jax.distributed``; by default every device of every
process): one device is the mesh of size one. With several processes each runs this driver; only
process 0 writes files and prints, all of them save and restore checkpoints together.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh

from keisei_jax import distributed
from keisei_jax import workdir as workdirs
from keisei_jax.az.rollout import selfplay_settings
from keisei_jax.checkpoints import (
    CheckpointDamaged,
    Checkpointer,
    CheckpointError,
    kept_checkpoint,
)
from keisei_jax.compile_cache import compile_timer
from keisei_jax.config import ConfigError, TrainConfig, validate
from keisei_jax.eval.periodic import evaluate_training
from keisei_jax.metrics import MetricsWriter, Progress, truncate_metrics
from keisei_jax.search import SearchSettings
from keisei_jax.shaping import material_coef
from keisei_jax.shogi.state import Termination
from keisei_jax.workdir import WorkdirError

__all__ = ["TrainingDiverged", "WorkdirError", "periodic_evaluation", "summarise",
           "training_eval_settings",
           "train_and_evaluate"]

_EVAL_KEY_SALT = 0x5EED  # evaluation draws its own keys, so evaluating never perturbs training
# A policy whose mean entropy (nats) stays below this for this many consecutive calls has
# collapsed onto single moves: it stops exploring, usually for good.
ENTROPY_COLLAPSE = 0.01
ENTROPY_COLLAPSE_CALLS = 3
# Files of an earlier run that a fresh run refuses to append to or overwrite.
_RUN_FILES = ("config.json", "metrics.jsonl", "tensorboard")
_COMPILE_NOTE_S = 0.5  # a call that compiled this long says so on its own line


class TrainingDiverged(RuntimeError):
    """A loss, the gradient norm, the parameters or the optimizer state became NaN or infinite.

    iteration: the first iteration that produced a non-finite value. metrics: the non-finite
    entries of the trainer's ``nonfinite_checks`` at that iteration, in that order.
    """

    def __init__(self, message: str, *, iteration: int, metrics: list[str]):
        super().__init__(message)
        self.iteration, self.metrics = iteration, metrics


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr, flush=True)


def summarise(metrics: dict[str, np.ndarray], config: TrainConfig) -> dict[str, float]:
    """Reduce the per-iteration metrics of one compiled call to one record."""
    out: dict[str, float] = {}
    for name, values in metrics.items():  # the algorithm's losses and diagnostics
        if name not in ("games", "game_plies", "terminations", "learning_rate", "nonfinite"):
            out[f"train/{name}"] = float(np.mean(values))
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


def training_eval_settings(config: TrainConfig, iteration: int) -> SearchSettings | None:
    """How the learner searches in the periodic evaluation (None: its raw policy, with
    ``eval_simulations`` 0): self-play's search at ``eval_simulations`` and the iteration's
    material term, its root choice Gumbel-sampled unless ``eval_greedy`` (two argmax players
    would repeat one game per colour)."""
    if not config.eval_simulations:
        return None
    return selfplay_settings(config).replace(
        num_simulations=config.eval_simulations,
        gumbel_scale=0.0 if config.eval_greedy else 1.0,
        material_coef=float(material_coef(config, iteration)), check_bonus_pawns=0.0)


def periodic_evaluation(
    model: Any, params: Any, earlier_params: Any | None, config: TrainConfig, iteration: int
) -> tuple[dict[str, float], Any | None]:
    """The periodic evaluation: ``eval/random/*``, and with ``eval_ladder_games``
    ``eval/greedy/*`` and ``eval/earlier/*``; returns the record and the parameters the next
    evaluation compares against (None without the ladder)."""
    key = jax.random.fold_in(jax.random.PRNGKey(config.seed ^ _EVAL_KEY_SALT), iteration)
    t_eval = time.monotonic()
    with compile_timer() as compiling:
        record = evaluate_training(
            model, params, earlier_params, key, random_games=config.eval_games,
            ladder_games=config.eval_ladder_games, max_plies=config.eval_max_plies,
            # Sampled unless eval_greedy: two argmax players repeat one game per colour, so the
            # ladder's games would be copies of each other.
            temperature=0.0 if config.eval_greedy else 1.0,
            settings=training_eval_settings(config, iteration),
        )
    record["time/eval_seconds"] = time.monotonic() - t_eval
    record["time/eval_compile_seconds"] = compiling.seconds
    if not config.eval_ladder_games:
        return record, None
    # A copy: the next train call donates (frees) the runner's buffers.
    return record, jax.tree_util.tree_map(lambda x: x.copy(), params)


# Step 1: the workdir.

def _check_stop_at(config: TrainConfig, stop_at: int | None) -> int:
    stop_at = config.total_iterations if stop_at is None else stop_at
    if stop_at % config.iterations_per_call or not 0 < stop_at <= config.total_iterations:
        raise ConfigError(
            f"bad value {stop_at!r} for 'stop_at': expected a multiple of iterations_per_call "
            f"= {config.iterations_per_call} in (0, total_iterations = {config.total_iterations}]"
        )
    return stop_at


def _barrier(name: str) -> None:
    """All processes reach this point (a no-op on one): checks all see the same files."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def _check_workdir(workdir: Path, *, resume: bool) -> None:
    """A fresh run refuses a workdir holding an earlier run's files (naming the first);
    a resume needs the checkpoints. Nothing is changed either way."""
    ckpt_dir = workdir / "checkpoints"
    if resume:
        if not ckpt_dir.is_dir():
            raise CheckpointError(f"cannot resume: {ckpt_dir} does not exist (nothing was changed)")
        return
    if ckpt_dir.is_dir() and any(ckpt_dir.iterdir()):
        raise CheckpointError(
            f"{ckpt_dir} already holds checkpoints; pass --resume to continue that run, --fresh "
            "to move it aside, or choose another --workdir (nothing was changed)"
        )
    for name in _RUN_FILES:
        path = workdir / name
        if path.is_file() or (path.is_dir() and any(path.iterdir())):
            raise WorkdirError(
                f"{path} exists: {workdir} holds an earlier run; pass --resume to continue it, "
                "--fresh to move it aside, or choose another --workdir (nothing was changed)"
            )


# Step 2: the runner.

def lr_horizon(config: TrainConfig, checkpointer: Checkpointer, *, resume: bool,
               resume_from: int | None) -> TrainConfig:
    """``config`` with ``lr_decay_iterations`` fixed: as given, else the horizon of the run being
    resumed (its saved ``lr_decay_iterations``, or its ``total_iterations`` for a run saved
    before the field existed), else this run's ``total_iterations``. So a resume that extends a
    run (``--total_iterations`` larger) continues the schedule where it was, at the final rate,
    instead of restarting the decay mid-rate."""
    if config.lr_decay_iterations:
        return config
    horizon = config.total_iterations
    step = checkpointer.latest_step() if resume_from is None else resume_from
    if resume and step is not None and step in checkpointer.all_steps():
        try:
            saved = checkpointer.saved_config(step)
            horizon = saved.lr_decay_iterations or saved.total_iterations
        except CheckpointError:
            pass  # the restore below names what is wrong with it
    return dataclasses.replace(config, lr_decay_iterations=horizon)


def _start(sharded: Any, checkpointer: Checkpointer, config: TrainConfig, *, resume: bool,
           resume_from: int | None) -> tuple[Any, int]:
    """``(runner, iteration)``: a fresh runner, or the one restored from ``resume_from`` (the
    latest checkpoint if None)."""
    runner = sharded.init(jax.random.PRNGKey(config.seed))
    if not resume:
        return runner, 0
    try:
        return checkpointer.restore(runner, config, resume_from)
    except CheckpointDamaged as err:
        bad = checkpointer.latest_step() if resume_from is None else resume_from
        others = [s for s in checkpointer.all_steps() if s != bad]
        if not others:
            raise
        raise CheckpointDamaged(
            f"{err}; to resume from an earlier checkpoint pass --resume_from STEP with STEP one "
            f"of {others}"
        ) from err


def _rewind_files(workdir: Path, checkpointer: Checkpointer, start: int, main: bool) -> None:
    """A resume from ``start`` drops the metrics records past it (they would repeat); the
    checkpoints past it (``--resume_from`` an earlier step) move to ``WORKDIR/abandoned-<time>/``
    with those records."""
    aside = workdir / f"abandoned-{time.strftime('%Y%m%d-%H%M%S')}"
    moved = checkpointer.move_after(start, aside / "checkpoints")  # every process rereads
    if not main:
        return
    dropped = truncate_metrics(workdir / "metrics.jsonl", start)
    if moved:
        (aside / "metrics.jsonl").write_text("".join(dropped), encoding="utf-8")
        _warn(f"resuming from iteration {start}: moved the later checkpoints {moved} and "
              f"{len(dropped)} metrics records to {aside}")


def _open_outputs(workdir: Path, config: TrainConfig,
                  resources: contextlib.ExitStack) -> MetricsWriter:
    """Process 0's files: ``config.json`` (this run's config) and the metrics writer."""
    path, tmp = workdir / "config.json", workdir / ".config.json.tmp"
    try:  # renamed into place: a full disk leaves the previous one whole
        tmp.write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    except OSError as err:
        tmp.unlink(missing_ok=True)
        err.filename = err.filename or str(path)  # a failed write names no file
        raise
    os.replace(tmp, path)
    writer = MetricsWriter(workdir, tensorboard=config.tensorboard)
    resources.callback(writer.close)
    return writer


def _train_call(sharded: Any, resources: contextlib.ExitStack) -> tuple[Any, Any]:
    """``(train_call, the parallel call or None)``: the compiled call, or worker processes
    feeding the same update when ``config.parallel.enabled`` (stopped with ``resources``)."""
    if not sharded.trainer.config.parallel.enabled:
        return sharded.train_call, None
    if sharded.mesh.size != 1:
        raise ConfigError(f"parallel.enabled needs one device, not a mesh of {sharded.mesh.size}")
    from keisei_jax.parallel import ParallelTrainCall  # spawns processes: when asked

    call = resources.enter_context(ParallelTrainCall(sharded.trainer))
    return call, call


# Step 3: one call and its record.

def _one_call(train_call: Any, runner: Any, config: TrainConfig,
              iteration: int) -> tuple[Any, dict[str, np.ndarray], dict[str, Any]]:
    """Run ``iterations_per_call`` iterations from ``iteration``; ``(runner, metrics, record)``."""
    t0 = time.monotonic()
    with compile_timer() as compiling:
        runner, metrics = train_call(runner)
        metrics = jax.device_get(metrics)
    elapsed = time.monotonic() - t0
    record: dict[str, Any] = summarise(metrics, config)
    record["iteration"] = iteration + config.iterations_per_call
    # The rate of the compiled program: the first call's compile is reported on its own.
    running = max(elapsed - compiling.seconds, 1e-6)
    record["env_steps_per_sec"] = config.iterations_per_call * config.steps_per_iteration / running
    record["time/call_seconds"] = elapsed
    record["time/compile_seconds"] = compiling.seconds
    return runner, metrics, record


def _divergence(metrics: dict[str, np.ndarray], iteration: int, checkpointer: Checkpointer,
                checks: tuple[str, ...]) -> TrainingDiverged | None:
    """The report of the first non-finite iteration of a call that started at ``iteration``."""
    masks = np.asarray(metrics["nonfinite"]).reshape(-1)
    bad = np.flatnonzero(masks)
    if not bad.size:
        return None
    mask = int(masks[bad[0]])
    names = [name for bit, name in enumerate(checks) if mask >> bit & 1]
    at = iteration + int(bad[0]) + 1
    last = checkpointer.latest_step()
    kept = (f"the last checkpoint is iteration {last} in {checkpointer.directory}"
            if last is not None else "no checkpoint was saved")
    also = f" (also non-finite: {', '.join(names[1:])})" if names[1:] else ""
    return TrainingDiverged(
        f"training diverged at iteration {at}: {names[0]} is not finite{also}; stopped without "
        f"saving this call, {kept}", iteration=at, metrics=names,
    )


def _watch_entropy(record: dict[str, Any], streak: int, main: bool) -> int:
    """Count consecutive calls under ``ENTROPY_COLLAPSE``; ``train/entropy_collapsed`` is 1
    once there are ``ENTROPY_COLLAPSE_CALLS`` of them, with one warning as it happens."""
    streak = streak + 1 if record["train/entropy"] < ENTROPY_COLLAPSE else 0
    record["train/entropy_collapsed"] = float(streak >= ENTROPY_COLLAPSE_CALLS)
    if streak == ENTROPY_COLLAPSE_CALLS and main:
        _warn(f"the policy has collapsed at iteration {record['iteration']}: mean entropy "
              f"{record['train/entropy']:.2g} < {ENTROPY_COLLAPSE} for {streak} calls in a row "
              "(train/entropy_collapsed); it hardly explores any more")
    return streak


# Step 4: evaluation: ``periodic_evaluation`` above.


def _compile_text(record: dict[str, Any]) -> str | None:
    """The compile line of a call (None: it hardly compiled): the training call's and the
    evaluation's compile, apart from the rate (the persistent cache shortens the next run's)."""
    parts = [f"{record[key]:.1f} s ({what})" for key, what in (
        ("time/compile_seconds", "the training call"),
        ("time/eval_compile_seconds", "the evaluation")) if record.get(key, 0.0) >= _COMPILE_NOTE_S]
    return f"compiling took {', '.join(parts)}; not counted in steps/s" if parts else None


def _progress_text(record: dict[str, Any]) -> str:
    """The losses first: a run going wrong shows there before the win rate moves."""
    text = (f"pi {record['train/policy_loss']:+.3f} v {record['train/value_loss']:.3f} "
            f"ent {record['train/entropy']:.3f} | games {record['games/finished']:.0f}")
    if "eval/random/win_rate" in record:
        text += f" | eval win {record['eval/random/win_rate']:.2f}"
    return text


def _run(config: TrainConfig, workdir: Path, *, resume: bool, resume_from: int | None,
         stop_at: int, quiet: bool, main: bool, mesh: Mesh | None,
         on_record: Callable[[dict[str, Any]], None] | None
         ) -> tuple[dict[str, Any], int, float]:
    """Steps 1-5 of ``train_and_evaluate``: ``(the last record, the iteration reached, seconds
    spent compiling)``."""
    with contextlib.ExitStack() as resources:
        # 1. Open the workdir: one run at a time; a fresh run starts on no earlier run's files.
        if main:
            resources.enter_context(workdirs.locked(workdir))
        _check_workdir(workdir, resume=resume)
        _barrier("keisei_jax.training.workdir_checked")

        # 2. Build or restore the runner; rewind the files to it.
        checkpointer = Checkpointer(workdir / "checkpoints", keep=config.keep_checkpoints)
        resources.callback(checkpointer.close)
        config = lr_horizon(config, checkpointer, resume=resume, resume_from=resume_from)
        mesh = distributed.make_mesh() if mesh is None else mesh
        sharded = distributed.shard_trainer(config, mesh)
        trainer = sharded.trainer
        runner, iteration = _start(sharded, checkpointer, config, resume=resume,
                                   resume_from=resume_from)
        if iteration >= stop_at:  # a resume past the end: say so, change nothing
            limit = ("total_iterations" if stop_at == config.total_iterations else "stop_at")
            raise ConfigError(
                f"nothing to train: the checkpoint in {checkpointer.directory} is at iteration "
                f"{iteration} and {limit} is {stop_at}; pass a larger --total_iterations to "
                "train on (nothing was changed)"
            )
        if resume:
            _rewind_files(workdir, checkpointer, iteration, main)
        writer = _open_outputs(workdir, config, resources) if main else None
        train_call, parallel_call = _train_call(sharded, resources)  # workers stop first
        out = Progress(config.total_iterations, start=iteration)
        if not quiet:
            out.message(
                f"{'resuming at' if resume else 'starting'} iteration {iteration}: "
                f"{config.num_envs} lanes x {config.rollout_len} steps per iteration on "
                f"{sharded.mesh.size} {jax.devices()[0].platform} device(s), "
                f"{config.total_iterations} iterations, workdir {workdir}"
            )

        record: dict[str, Any] = {}
        earlier_params = None  # the learner at the previous evaluation, its "earlier checkpoint"
        collapsed_calls = 0
        compile_total = 0.0
        t_start = time.monotonic()
        while iteration < stop_at:
            # 3. One compiled call and its record; stop before anything non-finite is used.
            runner, metrics, record = _one_call(train_call, runner, config, iteration)
            diverged = _divergence(metrics, iteration, checkpointer, trainer.nonfinite_checks)
            iteration = record["iteration"]
            last = iteration >= stop_at
            if parallel_call is not None:
                record.update(parallel_call.health())
            record["time/wall_seconds"] = time.monotonic() - t_start
            if diverged is not None:
                if writer is not None:
                    writer.write(iteration * config.steps_per_iteration, record)
                    if on_record is not None:
                        on_record({"env_steps": iteration * config.steps_per_iteration, **record})
                raise diverged
            collapsed_calls = _watch_entropy(record, collapsed_calls, main)
            # 4. Evaluate.
            if config.eval_every and (iteration % config.eval_every == 0 or last):
                evaluation, earlier_params = periodic_evaluation(
                    trainer.model, runner.params, earlier_params, config, iteration)
                record.update(evaluation)
            if writer is not None:
                writer.write(iteration * config.steps_per_iteration, record)
                if on_record is not None:
                    on_record({"env_steps": iteration * config.steps_per_iteration, **record})
            # 5. Checkpoint: every checkpoint_every iterations and at the end (0: only then).
            if last or (config.checkpoint_every and iteration % config.checkpoint_every == 0):
                checkpointer.save(iteration, runner, config)
            compile_total += (record["time/compile_seconds"]
                              + record.get("time/eval_compile_seconds", 0.0))
            if not quiet and (note := _compile_text(record)):
                out.message(note)
            if not quiet:
                out.update(iteration, record["env_steps_per_sec"], _progress_text(record))
    if not quiet:
        out.message("done")
    return record, iteration, compile_total


def train_and_evaluate(
    config: TrainConfig,
    workdir: str | Path,
    *,
    resume: bool = False,
    resume_from: int | None = None,
    stop_at: int | None = None,
    quiet: bool = False,
    mesh: Mesh | None = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train (or resume) into ``workdir``; returns the last metrics record.

    ``stop_at`` ends this invocation after that many iterations (a multiple of
    ``iterations_per_call``) with a checkpoint, as if interrupted; ``resume`` continues it.
    Checkpoints are saved every ``checkpoint_every`` iterations and always at the end (0: only
    at the end).

    A fresh run refuses a workdir holding an earlier run's checkpoints, ``config.json``,
    ``metrics.jsonl`` or TensorBoard files (nothing is overwritten); a second run on a workdir
    in use fails naming the first's pid (``WorkdirError``). ``resume`` restores the latest
    checkpoint, ``resume_from`` (implies ``resume``) an earlier one, verified by its checksums,
    and continues exactly where it stopped, on any mesh: a run saved on four devices resumes on
    one and the other way round. ``metrics.jsonl`` records past the resumed iteration are
    dropped, and checkpoints past it moved to ``WORKDIR/abandoned-<time>/``.

    A NaN or infinity in a loss, the gradient norm, the parameters or the optimizer state stops
    the run with ``TrainingDiverged`` naming the iteration and the first such metric; that
    call's runner is never saved, so the kept checkpoints stay finite.

    ``config.parallel.enabled`` plays self-play in worker processes (``keisei_jax.parallel``,
    the CPU fallback) feeding the same update; its health joins the metrics as ``parallel/*``.

    ``on_record`` receives every record process 0 writes to ``metrics.jsonl`` (with its
    ``env_steps``), e.g. to log it elsewhere (``metrics.WandbLogger``).
    """
    config = validate(config)
    stop_at = _check_stop_at(config, stop_at)
    resume = resume or resume_from is not None
    workdir = Path(workdir)
    main = distributed.is_main_process()
    quiet = quiet or not main
    workdirs.check_directory(workdir)
    _check_workdir(workdir, resume=resume)  # before the lock too: a refusal creates nothing
    try:
        record, iteration, compile_total = _run(
            config, workdir, resume=resume, resume_from=resume_from, stop_at=stop_at,
            quiet=quiet, main=main, mesh=mesh, on_record=on_record)
    except OSError as err:  # metrics.jsonl, config.json: a full disk is one line
        if not workdirs.is_disk_full(err):
            raise
        raise workdirs.disk_full(err, workdir, f"writing the run's files in {workdir}",
                                 kept_checkpoint(workdir / "checkpoints")) from None
    # 6. Finish.
    record["env_steps"] = iteration * config.steps_per_iteration
    record["time/compile_seconds_total"] = compile_total
    return record
