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

from keisei_jax import shaping
from keisei_jax.checkpoints import CHECKSUM_FILE, Checkpointer, CheckpointError
from keisei_jax.config import TrainConfig
from keisei_jax.eval.players import Player, network_player
from keisei_jax.eval.search_player import search_player
from keisei_jax.models import ModuleApply
from keisei_jax.search import SearchSettings
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
    def material_coef(self) -> float:
        """The material term of the run at this checkpoint's iteration (``shaping.material_coef``):
        what a pawn won was worth in the returns its value head learned (0 once annealed away)."""
        return float(shaping.material_coef(self.config, self.step))

    def search_settings(self, **changes) -> SearchSettings:
        """How this checkpoint searches in every tool (``default_player``): the search's
        defaults with the material term its value was trained with (``material_coef``), and no
        mate search at all for a run trained without the mate look-ahead
        (``search_mate_candidates`` 0, a knowledge aid: ``config.KNOWLEDGE_AIDS``); then
        ``changes`` (``SearchSettings`` fields)."""
        settings = SearchSettings(material_coef=self.material_coef)
        if self.config.search_mate_candidates == 0:  # trained without mate knowledge
            settings = settings.replace(mate_candidates=0, mate_threat_moves=0,
                                        mate_five_retries=0)
        return settings.replace(**changes)

    def player(self, settings: SearchSettings | None = None, *, temperature: float = 0.0,
               name: str | None = None, **changes) -> Player:
        """The default player of every tool: this network searching as ``settings`` say (None:
        ``search_settings(**changes)``), named ``NAME+sN``; or, with ``num_simulations=0``, its
        raw policy (its most probable move, or a sample at ``temperature``)."""
        name = name or f"{self.path.parent.parent.name}@{self.step}"
        if settings is not None and changes:
            raise TypeError("give either settings or changes to the checkpoint's settings")
        if settings is None and changes.get("num_simulations") == 0:
            self.search_settings(**{**changes, "num_simulations": 1})  # the rest still checked
            return network_player(self.apply_fn, self.params, temperature=temperature, name=name)
        settings = settings or self.search_settings(**changes)
        suffix = "" if settings.q_transform == "rescale" else f"+{settings.q_transform}Q"
        return search_player(self.apply_fn, self.params, settings,
                             obs_max_plies=self.config.max_plies,
                             name=f"{name}+s{settings.num_simulations}{suffix}")


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
