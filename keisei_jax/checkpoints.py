"""Orbax checkpoints of the whole ``Runner`` (params, optimizer state, games, RNG key, counter)
and the config that produced it, every N iterations, keeping the last K.

Restoring checks before it touches anything: a missing directory, no checkpoint, a damaged
checkpoint or a config that changes the shapes or the training maths raises ``CheckpointError``
naming what is wrong; nothing on disk is modified by a failed restore.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from keisei_jax.config import (
    FIELDS,
    RESUMABLE,
    ConfigError,
    TrainConfig,
    field_value,
    from_dict,
)

# Fields that may differ on resume (``resumable=True`` beside each field in keisei_jax.config):
# the driver's schedule and the parallel layout, not what is learnt.
RESUMABLE_CHANGES = RESUMABLE


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used: missing, damaged, or written by an incompatible config."""


class Checkpointer:
    """Owns the orbax manager of ``WORKDIR/checkpoints``."""

    def __init__(self, directory: str | Path, *, keep: int):
        self.directory = Path(directory).absolute()
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True),
        )

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        return list(self._manager.all_steps())

    def save(self, step: int, runner: Any, config: TrainConfig) -> None:
        self._manager.save(
            step,
            args=ocp.args.Composite(
                runner=ocp.args.StandardSave(runner),
                config=ocp.args.JsonSave(config.to_dict()),
            ),
        )
        self._manager.wait_until_finished()

    def restore(self, template: Any, config: TrainConfig, step: int | None = None):
        """Returns ``(runner, step)`` restored into the structure of ``template``.

        Raises ``CheckpointError`` if there is no checkpoint, it cannot be read, or its config
        differs from ``config`` in a field outside ``RESUMABLE_CHANGES``.
        """
        if step is None:
            step = self.latest_step()
        if step is None:
            raise CheckpointError(f"no checkpoint to resume from in {self.directory}")
        saved = self.saved_config(step)
        check_compatible(saved, config)
        abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, template)
        try:
            restored = self._manager.restore(
                step,
                args=ocp.args.Composite(runner=ocp.args.StandardRestore(abstract)),
            )
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise CheckpointError(
                f"checkpoint {step} in {self.directory} is damaged or does not match the "
                f"model/optimizer structure: {type(err).__name__}: {err}"
            ) from err
        return restored["runner"], step

    def saved_config(self, step: int) -> TrainConfig:
        path = self.directory / str(step) / "config" / "metadata"
        try:
            values = json.loads(path.read_text())
            return from_dict(values)
        except (OSError, json.JSONDecodeError, ConfigError, TypeError) as err:
            raise CheckpointError(
                f"checkpoint {step} in {self.directory} has a missing or damaged config "
                f"({path}): {type(err).__name__}: {err}"
            ) from err

    def close(self) -> None:
        self._manager.close()


def check_compatible(saved: TrainConfig, current: TrainConfig) -> None:
    """Raise ``CheckpointError`` listing the fields that differ and may not change on resume."""
    diffs = [
        f"{name}: checkpoint {field_value(saved, name)!r} != now {field_value(current, name)!r}"
        for name in FIELDS
        if name not in RESUMABLE_CHANGES and field_value(saved, name) != field_value(current, name)
    ]
    if diffs:
        raise CheckpointError(
            "the config is incompatible with the checkpoint (only "
            f"{sorted(RESUMABLE_CHANGES)} may change on resume): " + "; ".join(diffs)
        )
