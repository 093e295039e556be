"""The layout of the multiprocess CPU path: ``ParallelConfig`` (the ``parallel`` part of a
``TrainConfig``, defined beside it in ``keisei_jax.config``) resolved against its run."""

from __future__ import annotations

import dataclasses

from keisei_jax.config import FIELDS, ParallelConfig, TrainConfig, check_value, parallel_layout

__all__ = ["ParallelConfig", "resolve"]


def resolve(parallel: ParallelConfig, config: TrainConfig) -> ParallelConfig:
    """``parallel`` with derived sizes filled in; raises ``ConfigError`` naming a bad value."""
    for name in FIELDS:
        if name.startswith("parallel."):
            check_value(name, getattr(parallel, name.removeprefix("parallel.")))
    lanes, length = parallel_layout(parallel, config)
    return dataclasses.replace(parallel, lanes_per_worker=lanes, segment_length=length)
