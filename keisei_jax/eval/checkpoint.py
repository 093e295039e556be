"""Load a trained policy from a checkpoint written by ``keisei_jax.training``.

A checkpoint argument is either a run's workdir (``WORKDIR``, meaning its latest checkpoint),
its ``WORKDIR/checkpoints`` directory (latest too), or one checkpoint's directory
(``WORKDIR/checkpoints/<iteration>``).

A run still training changes its checkpoints under a reader: it renames a new one into place and
writes its checksum file a moment later, and it removes the oldest (``keep_checkpoints``). A
checkpoint that vanished while it was read, or whose checksum file is not written yet while its
run is alive, is "in flux", not damaged: the loader reads the run's latest again (after a pause,
a few times), and otherwise says which of the two happened.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

from keisei_jax.checkpoints import CHECKSUM_FILE, Checkpointer, CheckpointError
from keisei_jax.config import TrainConfig
from keisei_jax.default_player import PLAY_SIMULATIONS
from keisei_jax.eval.players import Player, network_player
from keisei_jax.models import ModuleApply
from keisei_jax.search import CONSIDERED_ACTIONS, MATE_FIVE_RETRIES, MATE_THREAT_MOVES
from keisei_jax.shaping import shaping_coef
from keisei_jax.workdir import holder

_ATTEMPTS = 5  # reads of a run's latest checkpoint while the run changes it under us
_RETRY_S = 0.5  # a checksum file follows its checkpoint by the time to hash it (~1 s per GB)


@dataclasses.dataclass(frozen=True)
class LoadedPolicy:
    """A network restored from a checkpoint.

    apply_fn: ``(params, obs float32[B, 9, 9, 46]) -> (logits [B, 13527], value [B])``.
    params: the network parameters.
    config: the ``TrainConfig`` of the run.
    step: the training iteration of the checkpoint.
    path: the checkpoint's directory.
    """

    apply_fn: ModuleApply
    params: Any
    config: TrainConfig
    step: int
    path: Path

    @property
    def play_material_coef(self) -> float:
        """The material-shaping coefficient of the run at this checkpoint's iteration: what a
        pawn won was worth in the returns its value head learned (0 once annealed away)."""
        return float(shaping_coef(self.config, self.step))

    def player(self, *, temperature: float = 0.0, simulations: int = PLAY_SIMULATIONS,
               considered_actions: int = CONSIDERED_ACTIONS, gumbel_scale: float = 0.0,
               mate_candidates: int | None = None, material_coef: float | None = None,
               mate_threat_moves: int | None = None, mate_five_retries: int | None = None,
               q_transform: str = "rescale", name: str | None = None) -> Player:
        """The default player of every tool (``default_player``): a search of ``simulations``
        per move (``eval.search_player``; ``mate_candidates`` None: the search's default;
        ``material_coef`` None: the material shaping this checkpoint's value was trained with,
        ``play_material_coef``; ``mate_threat_moves``: root moves checked for a mate in three
        of the reply, None: ``search.MATE_THREAT_MOVES``; ``mate_five_retries``: new searches
        when the chosen move allows a mate in five, None: ``search.MATE_FIVE_RETRIES``;
        ``q_transform``: ``search.Q_TRANSFORMS``); or with ``simulations`` 0 the raw policy (its
        most probable move, or a sample at ``temperature``). A run trained without the mate
        look-ahead (``search_mate_candidates`` 0, a knowledge aid: ``config.KNOWLEDGE_AIDS``)
        plays without any mate search unless these ask for one."""
        name = name or f"{self.path.parent.parent.name}@{self.step}"
        if self.config.search_mate_candidates == 0:  # trained without mate knowledge
            mate_candidates = 0 if mate_candidates is None else mate_candidates
            mate_threat_moves = 0 if mate_threat_moves is None else mate_threat_moves
            mate_five_retries = 0 if mate_five_retries is None else mate_five_retries
        if simulations:
            from keisei_jax.eval.search_player import search_player

            return search_player(
                self.apply_fn, self.params, num_simulations=simulations,
                considered_actions=considered_actions, gumbel_scale=gumbel_scale,
                obs_max_plies=self.config.max_plies,
                name=f"{name}+s{simulations}" + ("" if q_transform == "rescale"
                                                 else f"+{q_transform}Q"),
                material_coef=(self.play_material_coef if material_coef is None
                               else material_coef),
                mate_threat_moves=(MATE_THREAT_MOVES if mate_threat_moves is None
                                   else mate_threat_moves),
                mate_five_retries=(MATE_FIVE_RETRIES if mate_five_retries is None
                                   else mate_five_retries),
                q_transform=q_transform,
                **({} if mate_candidates is None else {"mate_candidates": mate_candidates}),
            )
        return network_player(self.apply_fn, self.params, temperature=temperature, name=name)


# Networks shipped with the repository, a run folder each (config.json, metrics.jsonl, one
# checkpoint): ``baseline:NAME`` wherever a checkpoint is asked for.
BASELINES = Path(__file__).resolve().parents[2] / "experiments" / "baselines"


def baseline_names() -> list[str]:
    return sorted(p.name for p in BASELINES.iterdir() if p.is_dir()) if BASELINES.is_dir() else []


def resolve_checkpoint(path: str | Path) -> tuple[Path, int]:
    """``(checkpoints directory, iteration)`` named by ``path`` (see the module docstring);
    ``baseline:NAME`` names the shipped network ``experiments/baselines/NAME``."""
    if str(path).startswith("baseline:"):
        name = str(path).split(":", 1)[1]
        if name not in baseline_names():
            raise CheckpointError(f"unknown baseline {name!r}; shipped: {baseline_names()}")
        path = BASELINES / name
    path = Path(path).absolute()
    if not path.is_dir():
        raise CheckpointError(f"checkpoint path {str(path)!r} is not a directory")
    if path.name.isdigit() and (path / "config").is_dir():
        return path.parent, int(path.name)
    ckpt_dir = path / "checkpoints" if (path / "checkpoints").is_dir() else path
    steps = sorted(
        int(p.name) for p in ckpt_dir.iterdir() if p.name.isdigit() and (p / "config").is_dir()
    )
    if not steps:
        raise CheckpointError(
            f"no checkpoint in {str(path)!r}: expected a run's workdir, its checkpoints/ "
            "directory, or one checkpoint's directory (checkpoints/<iteration>)"
        )
    return ckpt_dir, steps[-1]


def nonfinite_leaf(params: Any) -> str | None:
    """The path of the first parameter holding a NaN or an infinity (a diverged run), or None."""
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        if not np.isfinite(np.asarray(leaf)).all():
            return jax.tree_util.keystr(path)
    return None


def _restore_policy(ckpt_dir: Path, step: int) -> LoadedPolicy:
    from keisei_jax.algos import make_train  # the trainer's Runner is the checkpoint's structure

    checkpointer = Checkpointer(ckpt_dir, keep=1_000_000)  # never deletes: we do not save
    try:
        config = checkpointer.saved_config(step)
        trainer = make_train(config)
        template = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
        if "replay" not in checkpointer.stored_fields(step):  # a play-only export
            template = dataclasses.replace(template, replay=None)
        runner, step = checkpointer.restore(template, config, step)
    finally:
        checkpointer.close()
    return LoadedPolicy(
        apply_fn=ModuleApply(trainer.model), params=runner.params, config=config, step=step,
        path=ckpt_dir / str(step),
    )


def _in_flux(ckpt_dir: Path, step: int) -> tuple[str, bool] | None:
    """``(what happened, rotated away)`` when checkpoint ``step`` changed under the reader
    because its run is still training; None when nothing did (the failure is real)."""
    step_dir = ckpt_dir / str(step)
    if not step_dir.is_dir():
        return ("was removed while it was read: the run writing it keeps only its latest "
                "checkpoints (keep_checkpoints) and rotated it away", True)
    pid = holder(ckpt_dir.parent)
    if not (step_dir / CHECKSUM_FILE).exists() and pid is not None:
        return (f"is still being saved by the run in {ckpt_dir.parent} (pid {pid}): its "
                f"{CHECKSUM_FILE} is not written yet; try again in a moment", False)
    return None


def _pause() -> None:
    time.sleep(_RETRY_S)


def load_policy(path: str | Path) -> LoadedPolicy:
    """Restore the network parameters of the checkpoint named by ``path``.

    The one loader of every program (``experiments/evaluate.py``, ``elo.py``, ``play.py``,
    ``strength.py``, ``keisei-usi``): through ``Checkpointer``, so the checkpoint's checksums
    are verified before anything is read and every failure is one ``CheckpointError`` naming
    the step and the file (a checkpoint saved before checksums loads with a warning that it is
    unverified). A checkpoint whose parameters are not all finite is refused: it cannot play.
    A checkpoint its run changes while it is read is read again or named as such (module
    docstring), never reported as damaged.
    """
    for attempt in range(_ATTEMPTS):
        ckpt_dir, step = resolve_checkpoint(path)
        one_step = Path(path).absolute() == ckpt_dir / str(step)
        try:
            policy = _restore_policy(ckpt_dir, step)
            break
        except (CheckpointError, OSError) as err:  # OSError: a file gone between two reads
            flux = _in_flux(ckpt_dir, step)
            if flux is None:
                raise
            what, rotated = flux
            if attempt == _ATTEMPTS - 1 or (rotated and one_step):  # a named step stays gone
                raise CheckpointError(f"checkpoint {step} in {ckpt_dir} {what}") from err
            _pause()
    leaf = nonfinite_leaf(policy.params)
    if leaf is not None:
        raise CheckpointError(
            f"checkpoint {policy.step} in {ckpt_dir} has non-finite parameters (NaN or inf, "
            f"first in params{leaf}): its run diverged and it cannot play; load an earlier one"
        )
    return policy
